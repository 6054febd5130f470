"""The FastAPI transport: REST routes, pages, the WebSocket endpoint, security."""
