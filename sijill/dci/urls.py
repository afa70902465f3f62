"""Mounted at /api/dci/ (sijill/urls.py): the standard's paths below it."""

from django.urls import path

from sijill.dci import views

urlpatterns = [
    path("registry/sync/search", views.sync_search),
    path("registry/search", views.search),
    path("registry/subscribe", views.subscribe),
    path("registry/unsubscribe", views.unsubscribe),
    path("registry/sync/txn/status", views.sync_txn_status),
    path("registry/txn/status", views.txn_status),
    path("keys", views.keys),
]
