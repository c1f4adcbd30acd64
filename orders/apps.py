from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders and customers"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415 (AppConfig.ready: the apps are loaded now)

        from .desk.views import time_zone_remember  # noqa: PLC0415 (AppConfig.ready: views need the models)

        user_logged_in.connect(time_zone_remember, dispatch_uid="orders.time_zone_remember")
