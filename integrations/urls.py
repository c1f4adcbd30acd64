from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("webhooks/<slug:source_name>/", views.webhook, name="webhook"),
]
