"""The sandbox retailer: a seeded simulated shop served in five vendors' real API formats.

``World`` is the simulation and its ground truth; ``SandboxServer`` serves it over
HTTP so OmniDesk's real adapters can sync from it (demo and integration tests);
``python manage.py sandbox`` runs it standalone.
"""

from .generate import DEFAULT_RATES
from .server import SandboxServer
from .truth import THRESHOLDS
from .world import CORRUPTIONS, DEFAULT_NOW, World

__all__ = ["CORRUPTIONS", "DEFAULT_NOW", "DEFAULT_RATES", "THRESHOLDS", "SandboxServer", "World"]
