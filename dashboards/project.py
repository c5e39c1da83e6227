"""A project page, ``/project?project=ID`` (projects access only), for ``panel serve``."""

from customercard.app import project_page

project_page().servable()
