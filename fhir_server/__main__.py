from fhir_server.cli import app

app()
