// dancepose web page: upload a video to POST /analyze (include=frames), then
// play it with the skeleton drawn on a canvas from the per-frame landmarks,
// a timeline of pose segments with a playhead, and the summary.
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

function pollProgress(progressId, isDone) {
  const poll = async () => {
    if (isDone()) return;
    try {
      const response = await fetch(`progress/${progressId}`, { cache: "no-store", headers: keyHeaders() });
      if (isDone()) return;
      if (response.ok) {
        const progress = await response.json();
        if (progress.stage === "done") return; // the answer is on its way
        if (progress.stage === "rendering") setStatus("Drawing the annotated video…", null);
        else if (progress.frames_total) {
          setStatus(`Analyzing: frame ${progress.frames_done} of ${progress.frames_total}`,
            progress.frames_done / progress.frames_total);
        } else setStatus(`Analyzing: ${progress.frames_done} frames`, null);
      }
    } catch (error) {
      // A failed poll only costs the count; the analysis goes on.
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

function analyze(file) {
  $("error").hidden = true;
  $("file").disabled = true;
  const started = performance.now();
  const clock = setInterval(() => {
    $("status-time").textContent = `${Math.round((performance.now() - started) / 1000)} s`;
  }, 500);
  let done = false;
  const progressId = randomId();
  const params = new URLSearchParams({ include: "frames", progress_id: progressId });
  if ($("annotate").checked) params.set("annotate", "1");

  const request = new XMLHttpRequest();
  request.open("POST", `analyze?${params}`);
  for (const [name, value] of Object.entries(keyHeaders())) request.setRequestHeader(name, value);
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) setStatus(`Uploading ${file.name}`, event.loaded / event.total);
  };
  request.upload.onload = () => {
    setStatus("Analyzing…", null);
    pollProgress(progressId, () => done);
  };
  const finish = () => {
    done = true;
    clearInterval(clock);
    $("file").disabled = false;
    $("file").value = "";
  };
  request.onload = () => {
    finish();
    let body = null;
    try {
      body = JSON.parse(request.responseText);
    } catch (error) {
      body = null;
    }
    if (request.status === 200 && body) {
      $("status").hidden = true;
      showResult(body, request.responseText, file);
    } else if (request.status === 401) {
      $("status").hidden = true;
      $("key-field").hidden = false;
      $("api-key").focus();
      showError("This server needs an API key: enter it above, then choose the video again.");
    } else {
      $("status").hidden = true;
      const problem = body && body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${request.status}`;
      showError(`The analysis failed: ${problem}`);
    }
  };
  request.onerror = () => {
    finish();
    $("status").hidden = true;
    showError("The upload failed: the server could not be reached.");
  };
  const form = new FormData();
  form.append("video", file, file.name);
  setStatus(`Uploading ${file.name}`, 0);
  request.send(form);
}

// ------------------------------------------------------------------ results

function showResult(result, text, file) {
  state.result = result;
  state.text = text;
  state.frames = [...(result.frames || [])].sort((a, b) => a.timestamp_ms - b.timestamp_ms);
  state.times = state.frames.map((frame) => frame.timestamp_ms);
  state.held = new Map(Object.entries(result.detected_poses).map(([pose, frames]) => [pose, new Set(frames)]));
  state.colours = new Map(result.pose_summary.map((entry, i) => [entry.pose, POSE_COLOURS[i % POSE_COLOURS.length]]));

  if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
  state.objectUrl = URL.createObjectURL(file);
  $("video-note").hidden = true;
  video.src = state.objectUrl;

  renderSummary(result);
  renderTimeline(result);
  renderAnnotated(result);
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

function renderAnnotated(result) {
  const annotated = result.annotated_video;
  $("annotated").hidden = !annotated;
  const player = $("annotated-video");
  if (!annotated) {
    player.removeAttribute("src");
    return;
  }
  player.src = annotated.url;
  $("annotated-link").href = annotated.url;
  $("annotated-ttl").textContent = `${Math.round(annotated.expires_in_s / 60)} min`;
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
  followPlayback();
}

start();
