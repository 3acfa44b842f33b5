// The old system's JavaScript client for /ws/notifications/ (its WebSocket guide's usage example), kept to
// show that a browser client written for the old server works against Herald unchanged. A browser script:
// `WebSocket` and `showNotification` are the page's. Put your access token (from `login`) and host below.
// test/integration/legacy-endpoints.test.ts runs it with Node, the `ws` package standing in for WebSocket.
const token = "your-jwt-token";
const socket = new WebSocket(`ws://localhost:8000/ws/notifications/?token=${token}`);

socket.onopen = function () {
  console.log("Connected to notifications");

  // Only blog posts and comments, in the old snake_case names.
  socket.send(JSON.stringify({ type: "subscribe", notification_types: ["blog_post_published", "comment_added"] }));
};

socket.onmessage = function (event) {
  const message = JSON.parse(event.data);
  console.log("Notification:", message);

  if (message.type === "notification") {
    showNotification(message.data);
  }
};

// Keep the connection alive: the server answers each ping with a pong.
setInterval(function () {
  if (socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "ping" }));
  }
}, 30000);
