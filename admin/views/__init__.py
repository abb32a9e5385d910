"""The flask-admin views of the staff workplace."""
