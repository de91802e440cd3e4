// dancepose web page: upload a video as an analysis job (include=frames),
// straight to S3 with the presigned POST of POST /uploads when the service
// offers it, else to POST /analyses; follow the job (GET /analyses/{id},
// fetching its result_url when the result is not inline; its id in the URL
// survives a reload; it can be canceled), then play the video with the
// skeleton drawn on a canvas from the per-frame landmarks, a timeline of
// pose segments with a playhead, and the summary. The analyses made here are
// listed from local storage.
"use strict";

// MediaPipe's 33-landmark pose connections, as analyzer/render/skeleton.py's
// POSE_CONNECTIONS (tests/test_web.py checks that the two agree).
const POSE_CONNECTIONS = [
  [0, 1], [1, 2], [2, 3], [3, 7], [0, 4], [4, 5], [5, 6], [6, 8], [9, 10],
  [11, 12], [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19],
  [12, 14], [14, 16], [16, 18], [16, 20], [16, 22], [18, 20],
  [11, 23], [12, 24], [23, 24], [23, 25], [24, 26], [25, 27], [26, 28],
  [27, 29], [28, 30], [29, 31], [30, 32], [27, 31], [28, 32],
];
// Landmarks are drawn from this visibility on (as MediaPipe's drawing utils).
const MIN_VISIBILITY = 0.5;
// Skeleton colours: the person's left side, right side, middle (as analyzer/render/skeleton.py).
const SIDE_COLOURS = { left: "#ff8a00", right: "#00aaff", middle: "#ffffff" };
const POSE_COLOURS = [
  "#4f46e5", "#059669", "#d97706", "#db2777", "#0891b2", "#7c3aed", "#dc2626", "#65a30d",
  "#2563eb", "#c026d3", "#0f766e", "#ea580c", "#9333ea", "#475569",
];
const POLL_MS = 800;

const $ = (id) => document.getElementById(id);
const video = $("video");
const canvas = $("overlay");
const context = canvas.getContext("2d");

const state = {
  result: null, // the analysis JSON
  text: "", // its raw text, for the download
  frames: [], // result.frames, by timestamp
  times: [], // their timestamp_ms
  held: new Map(), // pose -> Set of frame indices where it is held
  colours: new Map(), // pose -> colour
  segments: [], // [element, segment]
  objectUrl: null,
};

// Left, right or middle of the body, from BlazePose's numbering: 1-3 left eye,
// 4-6 right eye, then odd left and even right from 7 (left ear) on.
function side(index) {
  if (index === 0) return "middle";
  if (index <= 6) return index <= 3 ? "left" : "right";
  return index % 2 ? "left" : "right";
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name === "style") Object.assign(node.style, value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function seconds(ms, digits = 2) {
  return `${(ms / 1000).toFixed(digits)} s`;
}

// The X-API-Key header, once the server has asked for a key (401) and one was entered.
function keyHeaders() {
  const key = $("api-key").value.trim();
  return key ? { "X-API-Key": key } : {};
}

// A random id (128 bits, URL-safe), as compare.js's progress_id.
function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// ------------------------------------------------------------------ upload and progress

function setStatus(text, fraction) {
  $("status").hidden = false;
  $("status-text").textContent = text;
  const bar = $("bar");
  if (fraction === null) bar.removeAttribute("value");
  else bar.value = Math.max(0, Math.min(1, fraction));
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

// ------------------------------------------------------------------ jobs: submit, follow, cancel

// The analysis job this page follows (its id is also in the URL, ?analysis=ID).
const job = { id: null, file: null, timer: null, clock: null };

function jobUrl(id) {
  return `analyses/${encodeURIComponent(id)}`;
}

// Analyses made from this browser, newest first, kept in local storage (the
// server lists jobs only per API key).
const HISTORY_KEY = "dancepose.analyses";
const HISTORY_MAX = 20;

function readHistory() {
  try {
    const entries = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch (error) {
    return [];
  }
}

function remember(id, filename) {
  const entries = [{ id, filename, at: new Date().toISOString() }, ...readHistory().filter((e) => e.id !== id)];
  localStorage.setItem(HISTORY_KEY, JSON.stringify(entries.slice(0, HISTORY_MAX)));
  renderHistory();
}

function forget(id) {
  localStorage.setItem(HISTORY_KEY, JSON.stringify(readHistory().filter((e) => e.id !== id)));
  renderHistory();
}

function renderHistory() {
  const entries = readHistory();
  $("history").hidden = entries.length === 0;
  $("history-list").replaceChildren(...entries.map((entry) => el("li", { "data-id": entry.id },
    el("a", { href: `?analysis=${encodeURIComponent(entry.id)}` }, entry.filename || entry.id),
    " ", el("span", { class: "muted small" }, new Date(entry.at).toLocaleString()))));
}

function startClock() {
  const started = performance.now();
  clearInterval(job.clock);
  job.clock = setInterval(() => {
    $("status-time").textContent = `${Math.round((performance.now() - started) / 1000)} s`;
  }, 500);
}

function stopFollowing() {
  clearTimeout(job.timer);
  clearInterval(job.clock);
  job.timer = null;
  $("cancel").hidden = true;
  $("file").disabled = false;
  $("file").value = "";
}

function showProgress(body) {
  const progress = body.progress;
  if (body.status === "queued") setStatus("Waiting for a free analysis worker…", null);
  else if (progress.stage === "rendering") setStatus("Drawing the annotated video…", null);
  else if (progress.frames_total) {
    setStatus(`Analyzing: frame ${progress.frames_done} of ${progress.frames_total}`,
      progress.frames_done / progress.frames_total);
  } else setStatus(`Analyzing: ${progress.frames_done} frames`, null);
}

// Poll GET /analyses/{id} until the job ends, then show its result or error.
function follow(id, file) {
  job.id = id;
  job.file = file;
  $("error").hidden = true;
  $("file").disabled = true;
  $("cancel").hidden = false;
  startClock();
  const poll = async () => {
    if (job.id !== id) return;
    let response = null;
    try {
      response = await fetch(jobUrl(id), { cache: "no-store", headers: keyHeaders() });
    } catch (error) {
      job.timer = setTimeout(poll, POLL_MS); // a failed poll only costs time; the job goes on
      return;
    }
    if (job.id !== id) return;
    const text = await response.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (error) {
      body = null;
    }
    if (!response.ok || !body) {
      stopFollowing();
      $("status").hidden = true;
      if (response.status === 404) forget(id);
      showProblem(response.status, body, "This analysis is gone");
      return;
    }
    if (body.status === "succeeded") {
      stopFollowing();
      if (body.result) {
        $("status").hidden = true;
        showResult(body.result, JSON.stringify(body.result), file, body.annotated_video);
      } else if (body.result_url) fetchResult(body, file);
      else {
        $("status").hidden = true;
        showError("The analysis succeeded, but its result is gone.");
      }
    } else if (body.status === "failed" || body.status === "canceled") {
      stopFollowing();
      $("status").hidden = true;
      showError(body.status === "canceled" ? "The analysis was canceled."
        : `The analysis failed: ${body.error.message} (${body.error.code})`);
    } else {
      showProgress(body);
      job.timer = setTimeout(poll, POLL_MS);
    }
  };
  setStatus("Waiting for a free analysis worker…", null);
  poll();
}

// A result too large to be inline in the job: GET it from its result_url
// (a presigned S3 URL, sent no API key, or the service's own path).
async function fetchResult(body, file) {
  setStatus("Fetching the result…", null);
  const url = new URL(body.result_url.url, location.href);
  const headers = url.origin === location.origin ? keyHeaders() : {};
  try {
    const response = await fetch(url, { cache: "no-store", headers });
    const text = await response.text();
    const result = response.ok ? parsed(text) : null;
    $("status").hidden = true;
    if (result) showResult(result, text, file, body.annotated_video);
    else showError(`The result could not be fetched (HTTP ${response.status}).`);
  } catch (error) {
    $("status").hidden = true;
    showError("The result could not be fetched: its storage could not be reached.");
  }
}

function showProblem(status, body, what) {
  if (status === 401) {
    $("key-field").hidden = false;
    $("api-key").focus();
    showError("This server needs an API key: enter it above, then choose the video again.");
    return;
  }
  const problem = body && body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${status}`;
  showError(`${what}: ${problem}`);
}

async function cancel() {
  const id = job.id;
  if (!id) return;
  $("cancel").disabled = true;
  try {
    await fetch(jobUrl(id), { method: "DELETE", headers: keyHeaders() });
  } finally {
    $("cancel").disabled = false;
  }
  // The next poll sees "canceled" and says so.
}

// The analysis options the page asks for (the same in a query string or a JSON body).
function analysisOptions() {
  const options = { include: "frames" };
  if ($("annotate").checked) options.annotate = "1";
  return options;
}

function uploadFailed(message) {
  stopFollowing();
  $("status").hidden = true;
  showError(message);
}

// The answer of POST /analyses: follow the job (its id goes into the URL and
// the local history, so a reload picks it up again), or say what went wrong.
function submitted(status, body, file) {
  if ((status === 202 || status === 200) && body) {
    history.replaceState(null, "", `?analysis=${encodeURIComponent(body.id)}`);
    remember(body.id, file.name);
    follow(body.id, file);
  } else {
    stopFollowing();
    $("status").hidden = true;
    showProblem(status, body, "The analysis failed");
  }
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return null;
  }
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Ask POST /uploads first: a service that keeps uploads in S3 answers a
// presigned POST, and the video goes straight to the bucket; any other
// (404: uploads stay on the service) gets the video with POST /analyses.
async function analyze(file) {
  $("error").hidden = true;
  $("file").disabled = true;
  startClock();
  setStatus(`Uploading ${file.name}`, 0);
  let response = null;
  try {
    response = await fetch("uploads", { method: "POST", headers: keyHeaders() });
  } catch (error) {
    uploadFailed("The upload failed: the server could not be reached.");
    return;
  }
  const body = parsed(await response.text());
  if (response.ok && body) uploadToStorage(file, body);
  else if (response.status === 404) uploadToService(file);
  else submitted(response.status, body, file);
}

// The video as multipart/form-data to POST /analyses (include=frames).
function uploadToService(file) {
  const request = new XMLHttpRequest();
  request.open("POST", `analyses?${new URLSearchParams(analysisOptions())}`);
  for (const [name, value] of Object.entries(keyHeaders())) request.setRequestHeader(name, value);
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) setStatus(`Uploading ${file.name}`, event.loaded / event.total);
  };
  request.onload = () => submitted(request.status, parsed(request.responseText), file);
  request.onerror = () => uploadFailed("The upload failed: the server could not be reached.");
  const form = new FormData();
  form.append("video", file, file.name);
  request.send(form);
}

// The video to object storage with the presigned POST of POST /uploads
// (its fields, then Content-Type, then the file last), then the analysis
// with POST /analyses {"video_key", ...options}.
function uploadToStorage(file, grant) {
  if (file.size > grant.max_bytes) {
    uploadFailed(`This video is ${megabytes(file.size)}; this server takes videos up to ${megabytes(grant.max_bytes)}.`);
    return;
  }
  const request = new XMLHttpRequest();
  request.open("POST", grant.url);
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) setStatus(`Uploading ${file.name}`, event.loaded / event.total);
  };
  request.onload = () => {
    if (request.status >= 200 && request.status < 300) submitKey(file, grant.video_key);
    else uploadFailed(storageProblem(request.status, request.responseText, grant.max_bytes));
  };
  request.onerror = () => uploadFailed("The upload failed: the storage could not be reached (or it does not allow this page's origin).");
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
  form.append("Content-Type", file.type.startsWith("video/") ? file.type : "video/mp4");
  form.append("file", file, file.name);
  request.send(form);
}

// What S3's XML error (<Error><Code>...</Code><Message>...</Message>) says, for people.
function storageProblem(status, text, maxBytes) {
  const xml = new DOMParser().parseFromString(text || "<none/>", "application/xml");
  const code = xml.querySelector("Error > Code")?.textContent;
  const message = xml.querySelector("Error > Message")?.textContent || "";
  if (code === "EntityTooLarge") {
    return `The storage refused the upload: the video is larger than the ${megabytes(maxBytes)} this server takes (EntityTooLarge).`;
  }
  if (code) return `The storage refused the upload: ${message} (${code})`;
  return `The storage refused the upload (HTTP ${status}).`;
}

async function submitKey(file, videoKey) {
  setStatus("Starting the analysis…", null);
  try {
    const response = await fetch("analyses", {
      method: "POST",
      headers: { ...keyHeaders(), "Content-Type": "application/json" },
      body: JSON.stringify({ video_key: videoKey, ...analysisOptions() }),
    });
    submitted(response.status, parsed(await response.text()), file);
  } catch (error) {
    uploadFailed("The analysis could not be started: the server could not be reached.");
  }
}

// ------------------------------------------------------------------ results

// A result, with the uploaded file to play under the skeleton; after a
// reload the file is gone, and the annotated MP4 (if any) is what plays.
function showResult(result, text, file, annotated) {
  state.result = result;
  state.text = text;
  state.frames = [...(result.frames || [])].sort((a, b) => a.timestamp_ms - b.timestamp_ms);
  state.times = state.frames.map((frame) => frame.timestamp_ms);
  state.held = new Map(Object.entries(result.detected_poses).map(([pose, frames]) => [pose, new Set(frames)]));
  state.colours = new Map(result.pose_summary.map((entry, i) => [entry.pose, POSE_COLOURS[i % POSE_COLOURS.length]]));

  if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
  state.objectUrl = file ? URL.createObjectURL(file) : null;
  $("stage").hidden = !file;
  $("video-note").hidden = !!file;
  if (file) video.src = state.objectUrl;
  else {
    video.removeAttribute("src");
    $("video-note").textContent = "The video stays in the browser that chose it, so it is not shown after a reload"
      + (annotated ? "; the annotated MP4 plays beside." : ".");
  }

  renderSummary(result);
  renderTimeline(result);
  renderAnnotated(annotated);
  $("results").hidden = false;
  $("intake").classList.add("compact");
  draw();
}

function renderSummary(result) {
  const info = result.video;
  $("video-name").textContent = info.filename;
  $("facts").textContent = [
    `${info.width}×${info.height}`,
    `${Number(info.fps.toFixed(2))} fps`,
    `${info.frame_count} frames`,
    `${info.duration_s.toFixed(1)} s`,
    `person in ${result.frames_with_person} frames`,
    `analyzed in ${result.processing_s.toFixed(1)} s`,
  ].join(" · ");
  const body = $("summary").tBodies[0];
  body.replaceChildren(...result.pose_summary.map((entry) => {
    const colour = state.colours.get(entry.pose);
    const percent = Math.round(entry.ratio * 100);
    return el("tr", { "data-pose": entry.pose },
      el("td", {}, el("span", { class: "pose-name" }, el("span", { class: "dot", style: { background: colour } }), entry.pose)),
      el("td", { class: "num" }, `${entry.duration_s.toFixed(2)} s`),
      el("td", { class: "num" }, String(entry.frames_detected)),
      el("td", {}, el("span", { class: "share" },
        el("span", { class: "share-bar" }, el("span", { style: { width: `${percent}%`, background: colour } })),
        `${percent}%`)));
  }));
}

function durationMs(result) {
  return Math.max(1, result.video.duration_s * 1000);
}

function renderTimeline(result) {
  const total = durationMs(result);
  const frameMs = 1000 / result.video.fps;
  const poses = result.pose_summary.map((entry) => entry.pose);
  $("lane-labels").replaceChildren(...poses.map((pose) =>
    el("div", { class: "lane-label", title: pose },
      el("span", { class: "dot", style: { background: state.colours.get(pose) } }), el("span", { class: "name" }, pose))));
  state.segments = [];
  $("lanes").replaceChildren(...poses.map((pose) => {
    const lane = el("div", { class: "lane", "data-pose": pose });
    for (const segment of result.segments.filter((s) => s.pose === pose)) {
      const left = (segment.start_ms / total) * 100;
      const width = ((segment.end_ms - segment.start_ms + frameMs) / total) * 100;
      const label = `${pose}: ${seconds(segment.start_ms)} to ${seconds(segment.end_ms + frameMs)}`;
      const button = el("button", {
        type: "button",
        class: "seg",
        title: label,
        "aria-label": label,
        "data-pose": pose,
        "data-start-ms": segment.start_ms,
        "data-end-ms": segment.end_ms,
        "data-start-frame": segment.start_frame,
        "data-end-frame": segment.end_frame,
        style: { left: `${left}%`, width: `${Math.min(width, 100 - left)}%`, background: state.colours.get(pose), color: state.colours.get(pose) },
      });
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        // Half a frame in: start_ms is rounded to the millisecond, and the
        // browser shows the frame that starts at or before the time sought.
        seek((segment.start_ms + frameMs / 2) / 1000);
      });
      lane.append(button);
      state.segments.push([button, segment]);
    }
    return lane;
  }));
  renderRuler(total);
}

function renderRuler(total) {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  const step = (steps.find((s) => total / 1000 / s <= 8) || 1200) * 1000;
  const ticks = [];
  for (let t = 0; t <= total; t += step) {
    ticks.push(el("span", { class: "tick", style: { left: `${(t / total) * 100}%` } }, `${t / 1000} s`));
  }
  $("ruler").replaceChildren(...ticks);
}

function renderAnnotated(annotated) {
  $("annotated").hidden = !annotated;
  const player = $("annotated-video");
  if (!annotated) {
    player.removeAttribute("src");
    return;
  }
  player.src = annotated.url;
  $("annotated-link").href = annotated.url;
  const minutes = Math.max(1, Math.round((Date.parse(annotated.expires_at) - Date.now()) / 60000));
  $("annotated-ttl").textContent = `${minutes} min`;
}

function seek(time) {
  video.currentTime = time;
  draw();
}

// ------------------------------------------------------------------ drawing, in step with playback

// The analyzed frame shown at a media time: the last one that starts at or
// before it (half a frame of tolerance for rounded timestamps).
function frameAt(timeMs) {
  const times = state.times;
  const target = timeMs + 500 / state.result.video.fps;
  let low = 0;
  let high = times.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (times[middle] <= target) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found < 0 ? null : state.frames[found];
}

function drawSkeleton(context, landmarks, box) {
  const ratio = window.devicePixelRatio || 1;
  const line = Math.max(2, Math.min(box.width, box.height) / 160) * ratio;
  const point = (i) => [(box.x + landmarks[i][0] * box.width) * ratio, (box.y + landmarks[i][1] * box.height) * ratio];
  const visible = (i) => landmarks[i][3] >= MIN_VISIBILITY;
  context.lineCap = "round";
  context.lineWidth = line;
  for (const [a, b] of POSE_CONNECTIONS) {
    if (!visible(a) || !visible(b)) continue;
    context.strokeStyle = SIDE_COLOURS[side(a) === side(b) ? side(a) : "middle"];
    context.beginPath();
    context.moveTo(...point(a));
    context.lineTo(...point(b));
    context.stroke();
  }
  for (let i = 0; i < landmarks.length; i += 1) {
    if (!visible(i)) continue;
    const [x, y] = point(i);
    context.beginPath();
    context.arc(x, y, line * 0.9, 0, 2 * Math.PI);
    context.fillStyle = SIDE_COLOURS[side(i)];
    context.fill();
    context.lineWidth = ratio;
    context.strokeStyle = "#141414";
    context.stroke();
  }
}

// Where the picture is inside the video element (object-fit: contain), in CSS pixels.
function pictureBox(canvas, video) {
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  const scale = Math.min(width / video.videoWidth, height / video.videoHeight);
  const shownWidth = video.videoWidth * scale;
  const shownHeight = video.videoHeight * scale;
  return { x: (width - shownWidth) / 2, y: (height - shownHeight) / 2, width: shownWidth, height: shownHeight };
}

function draw(mediaTime) {
  if (!state.result) return;
  const time = mediaTime === undefined ? video.currentTime : mediaTime;
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.clearRect(0, 0, canvas.width, canvas.height);
  const frame = frameAt(time * 1000);
  if (frame && frame.landmarks && video.videoWidth) {
    const box = pictureBox(canvas, video);
    context.save();
    context.beginPath();
    context.rect(box.x * ratio, box.y * ratio, box.width * ratio, box.height * ratio);
    context.clip();
    drawSkeleton(context, frame.landmarks, box);
    context.restore();
  }

  const poses = frame ? [...state.held].filter(([, frames]) => frames.has(frame.frame_index)).map(([pose]) => pose) : [];
  $("now").replaceChildren(...poses.map((pose) =>
    el("span", { class: "chip" }, el("span", { class: "dot", style: { background: state.colours.get(pose) } }), pose)));
  const ms = time * 1000;
  for (const [button, segment] of state.segments) {
    button.classList.toggle("on", ms >= segment.start_ms && ms <= segment.end_ms + 1000 / state.result.video.fps);
  }
  $("playhead").style.left = `${Math.min(100, (ms / durationMs(state.result)) * 100)}%`;
}

function followPlayback() {
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (now, metadata) => {
      draw(metadata.mediaTime);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    const tick = () => {
      if (!video.paused) draw();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  for (const name of ["loadeddata", "seeked", "pause", "timeupdate"]) video.addEventListener(name, () => draw());
  window.addEventListener("resize", () => draw());
  video.addEventListener("error", () => {
    $("video-note").textContent = "This browser cannot play this video's format; the timeline and summary are below"
      + ($("annotated").hidden ? "." : ", and the annotated MP4 plays everywhere.");
    $("video-note").hidden = false;
  });
}

// ------------------------------------------------------------------ wiring

function start() {
  const drop = $("drop");
  $("file").addEventListener("change", () => {
    if ($("file").files.length) analyze($("file").files[0]);
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer.files[0];
    if (file && !$("file").disabled) analyze(file);
  });
  $("tracks").addEventListener("click", (event) => {
    if (!state.result) return;
    const box = $("lanes").getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
    seek((fraction * durationMs(state.result)) / 1000);
  });
  $("download").addEventListener("click", () => {
    const blob = new Blob([state.text], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `${state.result.video.filename.replace(/\.[^.]+$/, "")}.dancepose.json` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  $("cancel").addEventListener("click", cancel);
  followPlayback();
  renderHistory();
  const id = new URLSearchParams(location.search).get("analysis");
  if (id) follow(id, null);
}

start();
