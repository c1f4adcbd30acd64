from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from omnidesk.routers import replica_reads
from orders.api import api

admin.site.site_header = "OmniDesk supervision"
admin.site.site_title = "OmniDesk"
admin.site.index_title = "Sources, sync health and the canonical data"


def api_urls():
    """The JSON API authenticates by token, not by session: exempt it from the login redirect.

    Its GETs only read (a lookup, an order), so a replica may serve them.
    """
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback.login_required = False
        replica_reads("GET")(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("", include("orders.urls")),
    path("api/v1/", api_urls()),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),  # the password reset a supervisor sends
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
