"""The description of the extension's own actions: OpenAPI 3.1 and a page for people."""
