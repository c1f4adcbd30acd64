from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path


admin.site.site_header = "OmniDesk supervision"
admin.site.site_title = "OmniDesk"
admin.site.index_title = "Sources, sync health and the canonical data"

urlpatterns = [
    path("", include("orders.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
