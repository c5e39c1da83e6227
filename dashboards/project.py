"""A project page, ``/project?project=ID`` (projects access only), for ``panel serve``."""

from customercard.app import process_server, project_page

project_page(process_server()).servable()
