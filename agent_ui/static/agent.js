// The agent desk: say so when the push channel is lost. htmx's ws extension reconnects by
// itself (after a drop or a server restart); the server's first message after a reconnect
// replaces this text. Code 1008 means the login session ended: no reconnecting then.
document.addEventListener("htmx:wsClose", function (event) {
  var desk = document.getElementById("desk");
  var status = document.getElementById("push-status");
  if (!desk || !status) {
    return;
  }
  var ended = event.detail && event.detail.event && event.detail.event.code === 1008;
  status.textContent = ended ? desk.dataset.sessionEnded : desk.dataset.reconnecting;
  status.dataset.state = ended ? "ended" : "reconnecting";
});
