"""Multi-Channel > Marketplaces: the Airflow UI page that connects seller accounts (OAuth consent),
resets credentials and switches accounts. ``plugins/mip_marketplaces.py`` mounts ``app.create_app()``
on the api-server and links it from the navigation.
"""
