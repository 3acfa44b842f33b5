# The old system's Python client for /ws/notifications/ (its WebSocket guide's usage example), kept to show
# that a script written for the old server works against Herald unchanged. Needs the `websockets` package
# (Debian: apt-get install python3-websockets). Put your access token (from `login`) and host below.
# test/integration/legacy-endpoints.test.ts runs it with Debian's /usr/bin/python3.
import asyncio
import json

import websockets


async def listen_for_notifications():
    token = "your-jwt-token"
    url = f"ws://localhost:8000/ws/notifications/?token={token}"

    async with websockets.connect(url) as websocket:
        # Only new blog posts, in the old snake_case name.
        await websocket.send(json.dumps({"type": "subscribe", "notification_types": ["blog_post_published"]}))

        # Every message the server sends, until the connection closes.
        async for raw in websocket:
            message = json.loads(raw)
            print(f"Received: {message}")


asyncio.run(listen_for_notifications())
