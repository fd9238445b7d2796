"""URLs of the connectors pages (mounted at /admin/koppelingen/ by settings/urls.py).

The sync log hangs below its connector: /admin/koppelingen/<connector>/logboek/. These patterns
come before the connector's own include (settings/urls.py), and match only `logboek/...`.
"""

from django.urls import path

from . import log_views, views

app_name = "connectors"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:connector>/logboek/", log_views.RunLogView.as_view(), name="log"),
    path("<slug:connector>/logboek/<int:pk>/", log_views.RunView.as_view(), name="run"),
    path("<slug:connector>/logboek/<int:pk>/voortgang/", log_views.RunStatusView.as_view(),
         name="run_status"),
]
