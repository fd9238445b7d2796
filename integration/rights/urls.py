"""URLs of the Rechten page (mounted at /admin/rechten/ by settings/urls.py).

Every view goes through `admin.site.admin_view`: a login, staff status and the admin's cache
headers, like the admin's own pages. The POST views add the Rechten right on top (views.py).
"""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "rights"
urlpatterns = [
    path("", admin.site.admin_view(views.matrix), name="matrix"),
    path("wissel/", admin.site.admin_view(views.toggle), name="toggle"),
    path("rol/", admin.site.admin_view(views.add_role), name="add_role"),
    path("rol/<int:role_id>/gebruikers/toevoegen/", admin.site.admin_view(views.add_member),
         name="add_member"),
    path("rol/<int:role_id>/gebruikers/verwijderen/",
         admin.site.admin_view(views.remove_member), name="remove_member"),
]
