import HTTPKit
import ServiceKit
import SystemKit

/// The key list with add and remove, self-contained. Values are put into the page with textContent, so a value
/// is always shown as text, never run as HTML.
enum WebUI {
    static let page = Response.html(html)

    static let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Istio is not just for microservices</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;\
        background:#f9fafb;color:#1f2937}
        main{max-width:48rem;margin:0 auto;padding:1.5rem}
        h1{font-size:1.75rem}
        table{border-collapse:collapse;width:100%;background:#fff}
        th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid #e5e7eb;word-break:break-all}
        th{background:#4caf50;color:#fff}
        tbody tr:nth-child(odd){background:#f1f1f1}
        form{display:flex;gap:.5rem;margin:1rem 0;flex-wrap:wrap}
        input{flex:1;min-width:8rem;padding:.5rem;border:1px solid #d1d5db;border-radius:.375rem;font:inherit}
        button{padding:.5rem 1rem;border:1px solid #2563eb;background:#2563eb;color:#fff;border-radius:.375rem;\
        font:inherit;cursor:pointer}
        button.remove{background:#fff;color:#b91c1c;border-color:#b91c1c}
        #status{min-height:1.5rem;margin:.5rem 0}
        #status.error{color:#b91c1c}
        .empty{color:#6b7280;font-style:italic}
        </style>
        </head>
        <body>
        <main>
        <h1>Istio is not just for microservices</h1>
        <p>Keys stored in etcd through the storage app.</p>
        <form id="add-form" name="createForm">
        <input id="name" name="key" placeholder="Name" required maxlength="256">
        <input id="value" name="value" placeholder="Value" required>
        <button type="submit" id="add">Add</button>
        </form>
        <div id="status" role="status"></div>
        <table id="datatable"><thead><tr><th>Name</th><th>Value</th><th></th></tr></thead><tbody id="rows"></tbody>\
        </table>
        </main>
        <script>
        (function () {
          var rows = document.getElementById("rows");
          var status = document.getElementById("status");
          function show(message, isError) {
            status.textContent = message || "";
            status.className = isError ? "error" : "";
          }
          function failed(response) {
            return response.text().then(function (text) {
              var message = text;
              try { message = JSON.parse(text).error || text; } catch (e) {}
              throw new Error(response.status + " " + message);
            });
          }
          function load() {
            return fetch("/storage", { headers: { "Accept": "application/json" } })
              .then(function (r) { return r.ok ? r.json() : failed(r); })
              .then(function (data) {
                var nodes = (data.node && data.node.nodes) || [];
                rows.textContent = "";
                if (nodes.length === 0) {
                  var tr = rows.insertRow(); var td = tr.insertCell(); td.colSpan = 3;
                  td.className = "empty"; td.textContent = "No keys yet.";
                }
                nodes.forEach(function (node) {
                  var tr = rows.insertRow();
                  tr.insertCell().textContent = node.key;
                  tr.insertCell().textContent = node.dir ? "" : node.value;
                  var button = document.createElement("button");
                  button.className = "remove"; button.type = "button"; button.textContent = "Remove";
                  button.addEventListener("click", function () { remove(node.key); });
                  tr.insertCell().appendChild(button);
                });
              })
              .catch(function (e) { show("Could not list keys: " + e.message, true); });
          }
          function remove(key) {
            var name = key.replace(/^\\/+/, "");
            fetch("/storage/" + encodeURIComponent(name), { method: "DELETE", headers: { "Accept": "application/json" \
        } })
              .then(function (r) { if (!r.ok) { return failed(r); } show("Removed " + key); return load(); })
              .catch(function (e) { show("Could not remove " + key + ": " + e.message, true); });
          }
          document.getElementById("add-form").addEventListener("submit", function (event) {
            event.preventDefault();
            var key = document.getElementById("name").value;
            var value = document.getElementById("value").value;
            fetch("/storage", {
              method: "PUT",
              headers: { "Content-Type": "application/json", "Accept": "application/json" },
              body: JSON.stringify({ key: key, value: value })
            })
              .then(function (r) { if (!r.ok) { return failed(r); } show("Stored " + key); event.target.reset(); \
        return load(); })
              .catch(function (e) { show("Could not store " + key + ": " + e.message, true); });
          });
          load();
        })();
        </script>
        </body>
        </html>

        """
}
