from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Sources and sync"

    def ready(self):
        """Wire the detection rules after each landed page (the last arrow of the data flow)."""
        from orders.detection import detect_after_page

        from .sync import PAGE_HOOKS

        if detect_after_page not in PAGE_HOOKS:
            PAGE_HOOKS.append(detect_after_page)
