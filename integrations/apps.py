from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Sources and sync"

    def ready(self):
        """Wire the detection rules (the last arrow of the data flow): after each sync run, and after each
        webhook's page, for the orders they touched."""
        from orders.flags.detection import detect_after_run  # noqa: PLC0415 (AppConfig.ready: the apps are loaded now)
        from orders.tasks import detect_after_page_queued  # noqa: PLC0415 (as above)

        from .sync import PAGE_HOOKS, RUN_HOOKS  # noqa: PLC0415 (as above)

        if detect_after_page_queued not in PAGE_HOOKS:
            PAGE_HOOKS.append(detect_after_page_queued)
        if detect_after_run not in RUN_HOOKS:
            RUN_HOOKS.append(detect_after_run)
