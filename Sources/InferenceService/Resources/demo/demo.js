// The live demo page: replays a recording of MediaPipe Holistic landmarks through the server's stream
// (docs/STREAMING.md, protocol signbert.stream.v1), draws the skeleton, shows the top classes and the signs.
// Plain JavaScript, no framework, no build step; everything comes from this server (the page's CSP allows
// nothing else).
"use strict";

const $ = (id) => document.getElementById(id);

// ---- Reading recordings: .pose files and landmark JSON -------------------------------------------------

// MediaPipe's landmark names, in landmark-index order (a .pose file names its points).
const POSE_NAMES = ["NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
  "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER",
  "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
  "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
  "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"];
const HAND_NAMES = ["WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP",
  "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP",
  "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP",
  "RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"];

// A recording, whatever its source: {frames, width, height, fps, segments}. A frame is the stream's landmark
// frame: {pose: 33 x [x, y, z, visibility] | null, left_hand: 21 x [x, y, z] | null, right_hand: ...}, x and y
// normalised to the image.

// Reads a .pose file (pose-format's binary format, versions 0.1 and 0.2): the first person's pose and hands,
// found by point name; pixels are normalised by the header's size; confidence 0 means undetected.
function readPose(buffer) {
  const view = new DataView(buffer);
  let at = 0;
  const need = (n) => { if (at + n > buffer.byteLength) throw new Error("the .pose file is truncated"); };
  const u16 = () => { need(2); const v = view.getUint16(at, true); at += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(at, true); at += 4; return v; };
  const f32 = () => { need(4); const v = view.getFloat32(at, true); at += 4; return v; };
  const str = () => { const n = u16(); need(n); const s = new TextDecoder().decode(new Uint8Array(buffer, at, n)); at += n; return s; };

  const version = Math.round(f32() * 1000) / 1000;
  if (version !== 0.1 && version !== 0.2) throw new Error(`not a .pose file of version 0.1 or 0.2 (version ${version})`);
  const width = u16(), height = u16();
  u16(); // depth
  const components = [];
  let total = 0, dims = 0;
  for (let c = u16(); c > 0; c--) {
    const name = str(), format = str();
    const points = u16(), limbs = u16(), colors = u16();
    const names = [];
    for (let p = 0; p < points; p++) names.push(str());
    at += limbs * 4 + colors * 6;
    components.push({ name, names, first: total });
    total += points;
    dims = Math.max(dims, format.length - 1);
  }
  const fps = version === 0.1 ? u16() : f32();
  const declared = version === 0.1 ? u16() : u32();
  const people = u16();
  if (people < 1) throw new Error("the .pose file records no person");
  const frameBytes = people * total * (dims + 1) * 4;
  const count = version === 0.1 ? Math.floor((buffer.byteLength - at) / frameBytes) : declared;
  if (count < 1 || at + count * frameBytes > buffer.byteLength) throw new Error("the .pose file is truncated");
  const data = at, confidence = at + count * people * total * dims * 4;

  // The point index (among a person's points) of each landmark we need, or -1.
  const locate = (component, names) => {
    const found = components.find((c) => c.name === component);
    if (!found) throw new Error(`the .pose file has no ${component}: MediaPipe Holistic landmarks are needed`);
    return names.map((n) => { const i = found.names.indexOf(n); return i < 0 ? -1 : found.first + i; });
  };
  const parts = [["pose", locate("POSE_LANDMARKS", POSE_NAMES)],
    ["left_hand", locate("LEFT_HAND_LANDMARKS", HAND_NAMES)],
    ["right_hand", locate("RIGHT_HAND_LANDMARKS", HAND_NAMES)]];
  const frames = [];
  for (let t = 0; t < count; t++) {
    const frame = {};
    for (const [part, indices] of parts) {
      let seen = false;
      frame[part] = indices.map((i) => {
        if (i < 0) return part === "pose" ? [0, 0, 0, 0] : [0, 0, 0];
        const p = t * people * total + i; // person 0
        const c = view.getFloat32(confidence + p * 4, true);
        if (!(c > 0)) return part === "pose" ? [0, 0, 0, 0] : [0, 0, 0];
        seen = true;
        const x = view.getFloat32(data + p * dims * 4, true) / width;
        const y = view.getFloat32(data + (p * dims + 1) * 4, true) / height;
        return part === "pose" ? [x, y, 0, c] : [x, y, 0];
      });
      if (!seen) frame[part] = null;
    }
    frames.push(frame);
  }
  return { frames, width, height, fps: fps || 30, segments: [] };
}

// Reads a landmark JSON document: a recording (tools/gesture_data.py), a clip of /predict's landmark form, or
// a /predict request of that form (its first clip).
function readLandmarkJSON(text) {
  let doc = JSON.parse(text);
  if (doc && Array.isArray(doc.inputs)) doc = doc.inputs[0];
  if (!doc || !Array.isArray(doc.frames)) throw new Error('a landmark JSON file needs "frames" (and "image_width", "image_height")');
  if (!Number.isInteger(doc.image_width) || !Number.isInteger(doc.image_height)) {
    throw new Error('the landmark JSON file needs "image_width" and "image_height" in pixels');
  }
  return { frames: doc.frames, width: doc.image_width, height: doc.image_height, fps: doc.fps || 30,
    segments: doc.segments || [] };
}

// A file the user picked: JSON if it starts with "{", else .pose.
async function readFile(file) {
  const buffer = await file.arrayBuffer();
  const first = new Uint8Array(buffer, 0, Math.min(64, buffer.byteLength));
  const isJSON = new TextDecoder().decode(first).trimStart().startsWith("{");
  return isJSON ? readLandmarkJSON(new TextDecoder().decode(buffer)) : readPose(buffer);
}

// The bundled recording: a .pose file and its true segments, both served with this page.
async function bundledRecording() {
  const [pose, truth] = await Promise.all([fetch("/demo/recording.pose"), fetch("/demo/recording.json")]);
  if (!pose.ok || !truth.ok) throw new Error("the bundled recording is missing on this server");
  const recording = readPose(await pose.arrayBuffer());
  const meta = await truth.json();
  recording.segments = meta.segments;
  recording.fps = meta.fps || recording.fps;
  return recording;
}

// ---- The binary frame form of the protocol -------------------------------------------------------------

// One frame as 75 points x (x, y, z, visibility) float32: an undetected part is all NaN.
function packFrame(frame) {
  const out = new Float32Array(75 * 4);
  let i = 0;
  for (const [part, count] of [["pose", 33], ["left_hand", 21], ["right_hand", 21]]) {
    const points = frame[part];
    for (let p = 0; p < count; p++) {
      const v = points ? points[p] : null;
      const xyzv = v ? (Array.isArray(v) ? v : [v.x, v.y, v.z || 0, v.visibility]) : null;
      out[i++] = xyzv ? xyzv[0] : NaN;
      out[i++] = xyzv ? xyzv[1] : NaN;
      out[i++] = xyzv ? (xyzv[2] || 0) : NaN;
      out[i++] = xyzv ? (xyzv.length > 3 ? xyzv[3] : 1) : NaN;
    }
  }
  return out.buffer;
}

// ---- Drawing the 27 joints ----------------------------------------------------------------------------

// The model's 27 joints (the spec's step 3): 0 neck (mean of the shoulders), 1-2 shoulders, 3-4 elbows
// (pose 11-14), 5-15 the left hand and 16-26 the right hand (hand landmarks HAND_JOINTS).
const HAND_JOINTS = [0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20];
// Bones within a hand, as indices into HAND_JOINTS: wrist to each finger's base, base to tip.
const HAND_BONES = [[0, 1], [1, 2], [0, 3], [3, 4], [0, 5], [5, 6], [0, 7], [7, 8], [0, 9], [9, 10]];

function joints27(frame) {
  const joints = new Array(27).fill(null);
  const pose = frame.pose;
  const xy = (v) => (Array.isArray(v) ? [v[0], v[1]] : [v.x, v.y]);
  const seen = (p) => p && !(p[0] === 0 && p[1] === 0);
  if (pose) {
    [11, 12, 13, 14].forEach((p, k) => { const v = xy(pose[p]); if (seen(v)) joints[1 + k] = v; });
    if (joints[1] && joints[2]) joints[0] = [(joints[1][0] + joints[2][0]) / 2, (joints[1][1] + joints[2][1]) / 2];
  }
  for (const [part, first] of [["left_hand", 5], ["right_hand", 16]]) {
    if (!frame[part]) continue;
    HAND_JOINTS.forEach((h, k) => { const v = xy(frame[part][h]); if (seen(v)) joints[first + k] = v; });
  }
  return joints;
}

function draw(canvas, recording, frame) {
  const ctx = canvas.getContext("2d");
  // Keep the video's aspect ratio inside the canvas.
  const scale = Math.min(canvas.width / recording.width, canvas.height / recording.height);
  const ox = (canvas.width - recording.width * scale) / 2, oy = (canvas.height - recording.height * scale) / 2;
  const px = (v) => [ox + v[0] * recording.width * scale, oy + v[1] * recording.height * scale];
  ctx.fillStyle = "#10151b";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const j = joints27(frame);
  const line = (a, b, colour) => {
    if (!j[a] || !j[b]) return;
    const [x1, y1] = px(j[a]), [x2, y2] = px(j[b]);
    ctx.strokeStyle = colour;
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
  };
  ctx.lineWidth = 3;
  // The body: neck to shoulders, shoulders to elbows, elbows to the wrists (the hands' joint 0).
  [[0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 16]].forEach(([a, b]) => line(a, b, "#c9d1d9"));
  ctx.lineWidth = 2;
  HAND_BONES.forEach(([a, b]) => { line(5 + a, 5 + b, "#f0a04b"); line(16 + a, 16 + b, "#4bb3f0"); });
  ctx.fillStyle = "#ffffff";
  j.forEach((v) => { if (v) { const [x, y] = px(v); ctx.fillRect(x - 2, y - 2, 4, 4); } });
}

// ---- The page ----------------------------------------------------------------------------------------

let session = null; // the stream being played: {socket, timer}

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

// What a close code means for the user (the protocol's codes).
function closeMessage(code, reason) {
  switch (code) {
    case 1000: return null;
    case 1001: return "The server is shutting down (draining): the stream was closed. Try again in a moment.";
    case 1013: return "The server is overloaded (too many open streams). Try again later.";
    case 1007: return `The server refused the recording: ${reason || "invalid data"}.`;
    case 1008: return `The server refused the stream: ${reason || "policy"}.`;
    case 1009: return "A message was too large for the server.";
    case 1011: return `The server had an internal error: ${reason || "no detail"}.`;
    default: return `The connection closed (code ${code}${reason ? ": " + reason : ""}).`;
  }
}

function showTopK(predictions) {
  const list = $("topk");
  list.replaceChildren(...predictions.map((p) => {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = p.label;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${Math.round(p.score * 100)}%`;
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = p.score.toFixed(3);
    item.append(label, bar, score);
    return item;
  }));
}

function addEvent(event, fps) {
  const item = document.createElement("li");
  item.textContent = event.label;
  const detail = document.createElement("span");
  detail.textContent = `${(event.start_frame / fps).toFixed(1)}–${(event.end_frame / fps).toFixed(1)} s, ${event.score.toFixed(2)}`;
  item.append(detail);
  item.dataset.label = event.label;
  $("transcript").append(item);
}

async function play() {
  stopPlaying();
  $("topk").replaceChildren();
  $("transcript").replaceChildren();
  $("truth").textContent = "";
  let recording;
  try {
    if ($("source").value === "file") {
      const file = $("file").files[0];
      if (!file) { status("Pick a .pose or landmark JSON file first.", true); return; }
      recording = await readFile(file);
    } else {
      recording = await bundledRecording();
    }
  } catch (error) {
    status(`Cannot read the recording: ${error.message}`, true);
    return;
  }
  if (recording.segments.length) {
    $("truth").textContent = "In the recording: " + recording.segments.map((s) => s.label).join(", ");
  }

  // Browsers cannot set Authorization on a WebSocket: the key travels as an extra offered subprotocol.
  const protocols = ["signbert.stream.v1"];
  if ($("key").value) protocols.push("signbert.key." + $("key").value);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v2/models/${encodeURIComponent($("model").value)}/stream`;
  let socket;
  try {
    socket = new WebSocket(url, protocols);
  } catch (error) { // e.g. a key with characters a subprotocol cannot carry
    status(`Cannot open the stream: ${error.message}`, true);
    return;
  }
  socket.binaryType = "arraybuffer";
  const current = { socket, timer: null, recording, ended: false };
  session = current;
  $("play").disabled = true;
  $("stop").disabled = false;
  status(`Connecting to ${url}…`);
  let errorText = null;

  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "start", input: "landmarks", image_width: recording.width,
      image_height: recording.height, top_k: 5 }));
  };
  socket.onmessage = (message) => {
    const m = JSON.parse(message.data);
    if (m.type === "ready") {
      status(`Streaming ${recording.frames.length} frames at ${recording.fps} frames/s to ${m.model} (window ${m.window}, stride ${m.stride})…`);
      sendFrames(current);
    } else if (m.type === "prediction") {
      showTopK(m.predictions);
    } else if (m.type === "event") {
      addEvent(m, recording.fps);
    } else if (m.type === "end") {
      current.ended = true;
      status(`Done: ${m.frames} frames, ${m.windows} windows (${m.skipped} skipped), ${m.events} signs.`);
    } else if (m.type === "error") {
      errorText = m.error;
    }
  };
  socket.onclose = (event) => {
    clearTimeout(current.timer);
    if (session === current) { $("play").disabled = false; $("stop").disabled = true; session = null; }
    const text = closeMessage(event.code, errorText || event.reason);
    if (event.code === 1006) status(current.ended ? $("status").textContent : "Could not reach the stream (the server refused the connection or went away).", !current.ended);
    else if (text) status(text, true);
    else if (!current.ended) status("The stream ended.");
  };
}

// Sends frame i at start + i / fps, as a camera would, then flush and stop.
function sendFrames(current) {
  const { socket, recording } = current;
  const started = performance.now();
  let next = 0;
  const tick = () => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const due = Math.min(recording.frames.length, Math.floor((performance.now() - started) / 1000 * recording.fps) + 1);
    for (; next < due; next++) {
      socket.send(packFrame(recording.frames[next]));
      draw($("skeleton"), recording, recording.frames[next]);
    }
    if (next < recording.frames.length) {
      current.timer = setTimeout(tick, Math.max(1, started + next * 1000 / recording.fps - performance.now()));
    } else {
      socket.send(JSON.stringify({ type: "flush" }));
      socket.send(JSON.stringify({ type: "stop" }));
    }
  };
  tick();
}

function stopPlaying() {
  if (!session) return;
  clearTimeout(session.timer);
  if (session.socket.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify({ type: "stop" }));
}

// The models this server serves (GET / describes the one it has).
async function loadModels() {
  try {
    const response = await fetch("/", { headers: { Accept: "application/json" } });
    const description = await response.json();
    const option = document.createElement("option");
    option.value = option.textContent = description.name;
    $("model").append(option);
    status(`Ready: model ${description.name} (${(description.labels || []).length} classes). Press Play.`);
  } catch (error) {
    status(`Cannot read the server's models: ${error.message}`, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("source").addEventListener("change", () => { if ($("source").value === "file") $("file").click(); });
  $("file").addEventListener("change", () => { if ($("file").files[0]) status(`Picked ${$("file").files[0].name}. Press Play.`); });
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", stopPlaying);
  loadModels();
});
