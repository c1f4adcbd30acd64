from django.shortcuts import render

from .selectors import sync_overview


def home(request):
    """Until the agent's search lands, the home page is the sync-health overview."""
    return render(request, "orders/home.html", sync_overview())
