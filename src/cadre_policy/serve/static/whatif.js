// The what-if page: diagnostics as the officer types (through /api/v1/lint), at their line; run, progress, report.
(function () {
  var text = document.getElementById("draft"), gutter = document.getElementById("gutter");
  var list = document.getElementById("diagnostics"), status = document.getElementById("lint-status");
  var marks = {}, timer = null, asked = 0;
  var sample = document.getElementById("sample-draft");
  if (sample) sample.addEventListener("change", function () { sample.form.submit(); });
  var headers = {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content};

  function drawGutter() {
    var n = text.value.split("\n").length;
    gutter.textContent = "";
    for (var i = 1; i <= n; i++) {
      var span = document.createElement("span");
      span.className = "ln" + (marks[i] ? " " + marks[i] : "");
      span.dataset.line = i;
      span.textContent = i;
      gutter.appendChild(span);
    }
    gutter.scrollTop = text.scrollTop;
  }

  function goTo(line) {
    var lines = text.value.split("\n"), at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    text.focus();
    text.setSelectionRange(at, at + (lines[line - 1] || "").length);
  }

  function show(diagnostics) {
    marks = {};
    list.textContent = "";
    diagnostics.forEach(function (d) {
      if (d.line && marks[d.line] !== "error") marks[d.line] = d.severity;
      var li = document.createElement("li");
      li.className = d.severity;
      li.dataset.line = d.line;
      var where = document.createElement("b");
      where.textContent = d.line ? "第 " + d.line + " 行" + (d.column ? "，第 " + d.column + " 列" : "") + "：" : "";
      li.appendChild(where);
      li.appendChild(document.createTextNode(d.code + " " + d.message +
        (d.suggestion ? "（是否应为 “" + d.suggestion + "”？）" : "")));
      li.addEventListener("click", function () { if (d.line) goTo(d.line); });
      list.appendChild(li);
    });
    var errors = diagnostics.filter(function (d) { return d.severity === "error"; }).length;
    status.textContent = errors ? errors + " 个错误" : (diagnostics.length ? "无错误，" + diagnostics.length + " 个提示" : "无错误");
    if (!errors) {
      var ok = document.createElement("li");
      ok.className = "ok";
      ok.id = "lint-ok";
      ok.textContent = "草案检查通过，可以运行";
      list.insertBefore(ok, list.firstChild);
    }
    drawGutter();
  }

  function lint() {
    var mine = ++asked;
    status.textContent = "检查中…";
    fetch("/api/v1/lint", {method: "POST", headers: headers, credentials: "same-origin",
                           body: JSON.stringify({text: text.value, name: document.getElementById("draft_name").value})})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (res) {
        if (mine !== asked) return;            // a newer edit has been sent meanwhile
        if (res[0]) show(res[1].diagnostics);
        else status.textContent = res[1].detail || "检查失败";
      })
      .catch(function () { status.textContent = "无法连接服务器"; });
  }

  text.addEventListener("input", function () { drawGutter(); clearTimeout(timer); timer = setTimeout(lint, 300); });
  text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
  text.addEventListener("keydown", function (e) {       // Tab indents with two spaces, as YAML wants
    if (e.key === "Tab") {
      e.preventDefault();
      var s = text.selectionStart;
      text.setRangeText("  ", s, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    }
  });

  var job = document.getElementById("job"), bar = document.getElementById("progress");
  var progressText = document.getElementById("progress-text"), jobStatus = document.getElementById("job-status");
  var jobError = document.getElementById("job-error"), links = document.getElementById("report-links");
  var frame = document.getElementById("report");
  var STATUS = {queued: "排队中", running: "运行中", done: "已完成", failed: "失败"};
  var PHASE = {read: "读取", compute: "计算", report: "说明", record: "留痕"};
  var run = document.getElementById("run");

  // one job at a time from this page: the button waits until the job ends (a double click runs it once)
  function busy(on) { run.disabled = on; run.textContent = on ? "测算进行中…" : "运行测算"; }
  function fail(message) {
    jobError.hidden = false; jobError.textContent = message; jobStatus.textContent = STATUS.failed; busy(false);
    localStorage.removeItem("whatif-job");
  }

  function poll(id) {
    fetch("/api/v1/jobs/" + id, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { busy(false); localStorage.removeItem("whatif-job"); throw new Error("gone"); }
      return r.json();
    }).then(function (j) {
      jobStatus.textContent = STATUS[j.status] || j.status;
      var phase = j.phase ? (PHASE[j.phase] || j.phase) + "：" : "";
      if (j.total) { bar.max = j.total; bar.value = j.done; progressText.textContent = phase + j.done + " / " + j.total + " 名干部"; }
      else if (phase) { progressText.textContent = phase.slice(0, -1); }
      if (j.status === "done" || j.status === "failed") { busy(false); localStorage.removeItem("whatif-job"); }
      if (j.status === "done") {
        progressText.textContent = j.done + " / " + j.total + " 名干部";
        links.hidden = false;
        document.getElementById("report-link").href = j.report;
        document.getElementById("json-link").href = j.result;
        document.getElementById("export-link").href = j.export;
        document.getElementById("job-record").textContent = "#" + j.record;
        document.getElementById("job-summary").textContent = j.summary || "";
        frame.hidden = false;
        frame.src = j.report;
        job.scrollIntoView();
      } else if (j.status === "failed") {
        fail((j.error && j.error.detail) || "测算失败");
      } else {
        setTimeout(function () { poll(id); }, 400);
      }
    });
  }

  run.addEventListener("click", function () {
    if (run.disabled) return;
    busy(true);
    job.hidden = false; jobError.hidden = true; links.hidden = true; frame.hidden = true;
    bar.value = 0; progressText.textContent = ""; jobStatus.textContent = "提交中…";
    document.getElementById("job-summary").textContent = "";
    var body = {draft: text.value, draft_name: document.getElementById("draft_name").value};
    var day = document.getElementById("as_of").value;
    if (day) body.as_of = day;
    fetch("/api/v1/whatif", {method: "POST", headers: headers, credentials: "same-origin", body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (res) {
        if (res[0] !== 202) { fail(res[1].detail || "无法运行"); if (res[1].errors) show(res[1].errors.filter(function (e) { return e.code; })); return; }
        localStorage.setItem("whatif-job", res[1].id);
        job.scrollIntoView();
        poll(res[1].id);
      })
      .catch(function () { fail("无法连接服务器"); });
  });

  drawGutter();
  if (text.value) lint();
  // back on the page while a job runs: show it again (every job is listed on 我的测算, /whatif/jobs)
  var running = localStorage.getItem("whatif-job");
  if (running) { job.hidden = false; busy(true); jobStatus.textContent = "运行中"; poll(running); }
})();
