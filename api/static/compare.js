// dancepose web page, the Compare view (address ending in #compare): upload a
// reference and a performance to POST /compare (include=frames), then play
// both side by side with their skeletons, the performance kept at the
// reference's time along the alignment path, a timeline of the reference
// coloured by segment score, and the body-part scores. Uses app.js's $, el,
// seconds, keyHeaders, randomId, drawSkeleton, pictureBox and POLL_MS.
"use strict";

const BODY_PART_NAMES = {
  left_arm: "Left arm", right_arm: "Right arm", left_leg: "Left leg", right_leg: "Right leg", torso: "Torso",
};
// Drift between the performance and its place on the path, in seconds, past
// which a playing performance is seeked rather than sped up or slowed down.
const MAX_DRIFT_S = 0.2;

const comparison = {
  result: null,
  frames: { reference: [], performance: [] }, // by timestamp
  times: { reference: [], performance: [] },
  urls: [],
  segments: [], // [element, segment]
};
const players = {
  reference: { video: $("compare-reference-video"), canvas: $("compare-reference-overlay") },
  performance: { video: $("compare-performance-video"), canvas: $("compare-performance-overlay") },
};

function showView() {
  document.body.classList.toggle("comparing", window.location.hash === "#compare");
}

// Red at 0, amber at 50, green at 100; grey when nothing was compared.
function scoreColour(score) {
  return score === null ? "#c5c8dc" : `hsl(${Math.round(1.2 * score)}, 68%, 44%)`;
}

function formatScore(score) {
  return score === null ? "–" : score.toFixed(0);
}

// ------------------------------------------------------------------ upload and progress

function setCompareStatus(text, fraction) {
  $("compare-status").hidden = false;
  $("compare-status-text").textContent = text;
  const bar = $("compare-bar");
  if (fraction === null) bar.removeAttribute("value");
  else bar.value = Math.max(0, Math.min(1, fraction));
}

function pollCompareProgress(progressId, isDone) {
  const poll = async () => {
    if (isDone()) return;
    try {
      const response = await fetch(`progress/${progressId}`, { cache: "no-store", headers: keyHeaders() });
      if (isDone()) return;
      if (response.ok) {
        const progress = await response.json();
        if (progress.stage === "done") return;
        if (progress.frames_total) {
          setCompareStatus(`Analyzing both videos: frame ${progress.frames_done} of ${progress.frames_total}`,
            progress.frames_done / progress.frames_total);
        } else setCompareStatus(`Analyzing both videos: ${progress.frames_done} frames`, null);
      }
    } catch (error) {
      // A failed poll only costs the count.
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

function runComparison() {
  const files = { reference: $("compare-reference").files[0], performance: $("compare-performance").files[0] };
  if (!files.reference || !files.performance) return;
  $("compare-error").hidden = true;
  $("compare-start").disabled = true;
  let done = false;
  const progressId = randomId();
  const request = new XMLHttpRequest();
  request.open("POST", `compare?${new URLSearchParams({ include: "frames", progress_id: progressId })}`);
  for (const [name, value] of Object.entries(keyHeaders())) request.setRequestHeader(name, value);
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) setCompareStatus("Uploading both videos", event.loaded / event.total);
  };
  request.upload.onload = () => {
    setCompareStatus("Analyzing both videos…", null);
    pollCompareProgress(progressId, () => done);
  };
  const fail = (message) => {
    $("compare-status").hidden = true;
    $("compare-error").textContent = message;
    $("compare-error").hidden = false;
  };
  request.onload = () => {
    done = true;
    $("compare-start").disabled = false;
    let body = null;
    try {
      body = JSON.parse(request.responseText);
    } catch (error) {
      body = null;
    }
    if (request.status === 200 && body) {
      $("compare-status").hidden = true;
      showComparison(body, files);
    } else if (request.status === 401) {
      $("key-field").hidden = false;
      fail("This server needs an API key: enter it on the Analyze view, then compare again.");
    } else {
      const problem = body && body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${request.status}`;
      fail(`The comparison failed: ${problem}`);
    }
  };
  request.onerror = () => {
    done = true;
    $("compare-start").disabled = false;
    fail("The upload failed: the server could not be reached.");
  };
  const form = new FormData();
  form.append("reference", files.reference, files.reference.name);
  form.append("performance", files.performance, files.performance.name);
  setCompareStatus("Uploading both videos", 0);
  request.send(form);
}

// ------------------------------------------------------------------ results

function showComparison(result, files) {
  comparison.result = result;
  for (const role of ["reference", "performance"]) {
    comparison.frames[role] = [...result.frames[role]].sort((a, b) => a.timestamp_ms - b.timestamp_ms);
    comparison.times[role] = comparison.frames[role].map((frame) => frame.timestamp_ms);
    $(`compare-${role}-name`).textContent = result[role].filename;
  }
  for (const url of comparison.urls) URL.revokeObjectURL(url);
  comparison.urls = [URL.createObjectURL(files.reference), URL.createObjectURL(files.performance)];
  players.reference.video.src = comparison.urls[0];
  players.performance.video.src = comparison.urls[1];
  $("compare-performance-stage").classList.toggle("mirrored", result.mirrored);
  $("compare-mirrored").hidden = !result.mirrored;
  renderScores(result);
  renderScoreTimeline(result);
  $("compare-results").hidden = false;
  drawComparison();
}

function renderScores(result) {
  $("compare-score").textContent = formatScore(result.score);
  $("compare-score").style.color = scoreColour(result.score);
  const timing = result.timing;
  const offset = timing.offset_ms >= 0 ? `${seconds(timing.offset_ms)} late` : `${seconds(-timing.offset_ms)} early`;
  $("compare-facts").textContent = [
    `started ${offset}`,
    `tempo ${timing.tempo_ratio.toFixed(2)}×`,
    `timing off by ${Math.round(timing.mean_abs_lag_ms)} ms on average`,
    result.mirrored ? "compared as a mirror image" : "compared as recorded",
    `person in ${Math.round(result.reference.pose_coverage * 100)}% / ${Math.round(result.performance.pose_coverage * 100)}% of frames`,
  ].join(" · ");
  $("compare-parts").tBodies[0].replaceChildren(...Object.entries(result.body_parts).map(([part, score]) =>
    el("tr", { "data-part": part },
      el("td", {}, BODY_PART_NAMES[part] || part),
      el("td", {}, el("span", { class: "share" },
        el("span", { class: "share-bar" }, el("span", { style: { width: `${score || 0}%`, background: scoreColour(score) } })),
        formatScore(score))))));
}

function referenceDurationMs(result) {
  return Math.max(1, result.segments.length ? result.segments[result.segments.length - 1].end_ms : 1);
}

function renderScoreTimeline(result) {
  const total = referenceDurationMs(result);
  comparison.segments = result.segments.map((segment) => {
    const worst = segment.worst_body_parts.map((part) => BODY_PART_NAMES[part] || part).join(", ");
    const label = `${seconds(segment.start_ms, 1)} to ${seconds(segment.end_ms, 1)}: score ${formatScore(segment.score)}`
      + (worst ? `, lowest: ${worst}` : "");
    const button = el("button", {
      type: "button",
      class: "score-seg",
      title: label,
      "aria-label": label,
      "data-start-ms": segment.start_ms,
      "data-end-ms": segment.end_ms,
      "data-score": segment.score === null ? "" : segment.score,
      style: {
        left: `${(segment.start_ms / total) * 100}%`,
        width: `${((segment.end_ms - segment.start_ms) / total) * 100}%`,
        background: scoreColour(segment.score),
      },
    });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      seekReference(segment.start_ms / 1000);
    });
    return [button, segment];
  });
  $("compare-segments").replaceChildren(...comparison.segments.map(([button]) => button));
}

function seekReference(time) {
  players.reference.video.currentTime = time;
  followReference();
}

// ------------------------------------------------------------------ the alignment path

// The performance time (ms) matched to a reference time (ms): linear between
// the path's points, and one to one before the first and after the last.
function performanceTime(referenceMs) {
  const path = comparison.result.path;
  if (referenceMs <= path[0][0]) return path[0][1] + (referenceMs - path[0][0]);
  const last = path[path.length - 1];
  if (referenceMs >= last[0]) return last[1] + (referenceMs - last[0]);
  let low = 0;
  let high = path.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (path[middle][0] <= referenceMs) low = middle;
    else high = middle;
  }
  const [r0, p0] = path[low];
  const [r1, p1] = path[high];
  return p0 + ((referenceMs - r0) / (r1 - r0)) * (p1 - p0);
}

// Keep the performance at the reference's place on the path: seeked while
// the reference is paused or far off, else played at the path's local speed.
function followReference() {
  if (!comparison.result) return;
  const reference = players.reference.video;
  const performanceVideo = players.performance.video;
  const now = reference.currentTime * 1000;
  const target = Math.max(0, performanceTime(now) / 1000);
  const drift = performanceVideo.currentTime - target;
  if (reference.paused || reference.seeking) {
    if (!performanceVideo.paused) performanceVideo.pause();
    if (Math.abs(drift) > 0.001) performanceVideo.currentTime = target;
  } else {
    const slope = (performanceTime(now + 500) - performanceTime(now)) / 500;
    performanceVideo.playbackRate = Math.max(0.25, Math.min(4, slope));
    if (Math.abs(drift) > MAX_DRIFT_S) performanceVideo.currentTime = target;
    if (performanceVideo.paused) performanceVideo.play().catch(() => {});
  }
  drawComparison();
}

// ------------------------------------------------------------------ drawing

function frameOf(role, timeMs) {
  const times = comparison.times[role];
  const target = timeMs + 1; // timestamps are rounded to 0.1 ms
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
  return found < 0 ? null : comparison.frames[role][found];
}

function drawPlayer(role) {
  const { video, canvas } = players[role];
  const context = canvas.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.clearRect(0, 0, canvas.width, canvas.height);
  const frame = frameOf(role, video.currentTime * 1000);
  if (frame && frame.landmarks && video.videoWidth) drawSkeleton(context, frame.landmarks, pictureBox(canvas, video));
}

function drawComparison() {
  if (!comparison.result) return;
  drawPlayer("reference");
  drawPlayer("performance");
  const ms = players.reference.video.currentTime * 1000;
  $("compare-playhead").style.left = `${Math.min(100, (ms / referenceDurationMs(comparison.result)) * 100)}%`;
  for (const [button, segment] of comparison.segments) {
    button.classList.toggle("on", ms >= segment.start_ms && ms < segment.end_ms);
  }
}

// ------------------------------------------------------------------ wiring

function startCompare() {
  showView();
  window.addEventListener("hashchange", showView);
  const ready = () => {
    $("compare-start").disabled = !($("compare-reference").files.length && $("compare-performance").files.length);
  };
  $("compare-reference").addEventListener("change", ready);
  $("compare-performance").addEventListener("change", ready);
  $("compare-start").addEventListener("click", runComparison);
  const reference = players.reference.video;
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = () => {
      followReference();
      reference.requestVideoFrameCallback(onFrame);
    };
    reference.requestVideoFrameCallback(onFrame);
  }
  for (const name of ["loadeddata", "seeked", "seeking", "play", "pause", "timeupdate"]) {
    reference.addEventListener(name, followReference);
  }
  for (const name of ["loadeddata", "seeked"]) players.performance.video.addEventListener(name, drawComparison);
  $("compare-timeline").addEventListener("click", (event) => {
    if (!comparison.result) return;
    const box = $("compare-timeline").getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
    seekReference((fraction * referenceDurationMs(comparison.result)) / 1000);
  });
  window.addEventListener("resize", drawComparison);
}

startCompare();
