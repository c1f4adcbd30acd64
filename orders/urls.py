from django.urls import path

from .counter import views as counter
from .desk import views, worklist

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("me/", views.preferences, name="preferences"),
    path("lookup", views.caller_lookup, name="caller_lookup"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/orders/<int:order_id>/", views.customer, name="customer_order"),
    path("customers/<int:customer_id>/notes/", views.note_add, name="note_add"),
    path("customers/<int:customer_id>/verified/", views.identity_verified, name="identity_verified"),
    path("customers/<int:customer_id>/links/<int:link_id>/", views.customer_link, name="customer_link"),
    path("orders/<int:order_id>/", views.order, name="order"),
    path("worklist/", worklist.worklist, name="worklist"),
    path("stores/<slug:code>/pickups/", counter.board, name="pickup_board"),
    path("stores/<slug:code>/pickups/<int:order_id>/", counter.order, name="pickup_order"),
    path("stores/<slug:code>/pickups/<int:order_id>/lines/<int:line_id>/", counter.line_check, name="pickup_line"),
    path("stores/<slug:code>/pickups/<int:order_id>/handover/", counter.handover, name="pickup_handover"),
    path("worklist/flags/<int:flag_id>/message/review/", worklist.message_review, name="message_review"),
    path("worklist/flags/<int:flag_id>/<slug:action>/", worklist.flag_action, name="flag_action"),
]
