// First-person viewer of a text3d scene.glb: opens at the file's first glTF camera (the first generation
// view, same pose and field of view), so the first frame shows the painted first view in 3D.
//
// Page URL: viewer.html?glb=<url of a .glb>. Controls: drag to look around; W A S D / arrow keys and the
// scroll wheel to walk (Q / E down / up, Shift faster); a list of the generation cameras to jump to; a
// camera-frustum toggle; Reset (back to the first view).
//
// Colours are shown as stored, unlit (the mesh's vertex colours are the views' pixels): basic vertex-colour
// material, double-sided, no colour management. The export world is y up; glTF cameras look down -z.
// window.text3dViewer exposes read-only state for tests and the console.

import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

THREE.ColorManagement.enabled = false;

const canvas = document.getElementById('view');
const stage = document.getElementById('stage');
const message = document.getElementById('message');
const where = document.getElementById('where');
const cameraList = document.getElementById('camera');
const frustumToggle = document.getElementById('frustums');
const resetButton = document.getElementById('reset');

const LOOK_SPEED = 1.0;      // radians turned per canvas height dragged, times the vertical field of view
const WALK_SPEED = 0.2;      // scene diagonals per second while a key is held
const KEY_STEP = 0.02;       // scene diagonals moved at once by each key press
const HOLD_DELAY_MS = 300;   // a key walks on only once held this long, so a tap moves exactly one KEY_STEP
const WHEEL_STEP = 0.0004;   // scene diagonals per wheel delta pixel
const MOVES = {
  KeyW: [0, 0, -1], ArrowUp: [0, 0, -1], KeyS: [0, 0, 1], ArrowDown: [0, 0, 1],
  KeyA: [-1, 0, 0], ArrowLeft: [-1, 0, 0], KeyD: [1, 0, 0], ArrowRight: [1, 0, 0],
  KeyQ: [0, -1, 0], PageDown: [0, -1, 0], KeyE: [0, 1, 0], PageUp: [0, 1, 0],
};

const state = {
  ready: false, error: null, frames: 0, current: 0, moved: false, cameras: [],
  pose() {
    return { position: view.position.toArray(), quaternion: view.quaternion.toArray(), fov: view.fov,
             aspect: view.aspect, current: state.current, moved: state.moved };
  },
};
window.text3dViewer = state;

let renderer;
const scene = new THREE.Scene();
scene.background = new THREE.Color(20 / 255, 20 / 255, 26 / 255);
const view = new THREE.PerspectiveCamera(60, 1, 0.01, 1000);
view.rotation.order = 'YXZ';                  // yaw about world up, then pitch: no roll creeps in
const frustums = new THREE.Group();
frustums.visible = false;
scene.add(frustums);
let diagonal = 1;
let cameras = [];                             // {name, label, position, quaternion, fov, aspect}
const held = new Map();                       // key code -> its keydown time (performance.now(), ms) while held
let lastTime = null;
let renderQueued = false;

function fail(text) {
  state.error = text;
  message.textContent = text;
}

function requestRender() {
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(frame);
  }
}

function frame(time) {
  renderQueued = false;
  if (held.size > 0) {
    const fast = held.has('ShiftLeft') || held.has('ShiftRight') ? 3 : 1;
    if (lastTime !== null) for (const [code, down] of held) {
      if (!MOVES[code]) continue;
      // walk for the part of the last frame after the hold delay (at most 0.1 s, so a stall does not leap)
      const dt = Math.min(Math.max(time - Math.max(lastTime, down + HOLD_DELAY_MS), 0) / 1000, 0.1);
      if (dt > 0) walk(MOVES[code], WALK_SPEED * diagonal * dt * fast);
    }
    lastTime = time;
    requestRender();
  } else {
    lastTime = null;
  }
  renderer.render(scene, view);
  state.frames += 1;
}

function fitCanvas() {
  // The canvas keeps the generation cameras' aspect ratio, so a camera's frame shows exactly its view.
  const w = stage.clientWidth, h = stage.clientHeight;
  if (!renderer || w === 0 || h === 0) return;
  let cw = w, ch = Math.round(w / view.aspect);
  if (ch > h) { ch = h; cw = Math.round(h * view.aspect); }
  renderer.setSize(cw, ch, true);
  requestRender();
}

function showWhere() {
  const cam = cameras[state.current];
  where.textContent = state.moved ? `free view (from ${cam.label})` : `camera ${cam.label}`;
  // The frustum of the camera one stands at would only outline the frame: hide it until one moves away.
  frustums.children.forEach((lines, i) => { lines.visible = state.moved || i !== state.current; });
}

function jumpTo(index) {
  const cam = cameras[index];
  state.current = index;
  state.moved = false;
  view.position.copy(cam.position);
  view.quaternion.copy(cam.quaternion);      // also sets view.rotation (YXZ)
  view.fov = cam.fov;
  view.aspect = cam.aspect;
  view.updateProjectionMatrix();
  cameraList.value = String(index);
  showWhere();
  fitCanvas();
  requestRender();
}

function walk(direction, distance) {
  // direction: camera-frame x (right), world up, camera-frame -z (forward) components.
  const forward = new THREE.Vector3();
  view.getWorldDirection(forward);
  const right = new THREE.Vector3().crossVectors(forward, view.up).normalize();
  const move = new THREE.Vector3()
    .addScaledVector(right, direction[0])
    .addScaledVector(view.up, direction[1])
    .addScaledVector(forward, -direction[2]);
  if (move.lengthSq() === 0) return;
  view.position.addScaledVector(move.normalize(), distance);
  markMoved();
}

function markMoved() {
  if (!state.moved) {
    state.moved = true;
    showWhere();
  }
  requestRender();
}

function frustumLines(cam, color, depth) {
  const ty = Math.tan(THREE.MathUtils.degToRad(cam.fov) / 2), tx = ty * cam.aspect;
  const c = [[-tx, -ty], [tx, -ty], [tx, ty], [-tx, ty]].map(([x, y]) => new THREE.Vector3(x * depth, y * depth, -depth));
  const o = new THREE.Vector3();
  const tip = new THREE.Vector3(0, ty * depth * 1.4, -depth);      // marks the camera's up side
  const pts = [o, c[0], o, c[1], o, c[2], o, c[3], c[0], c[1], c[1], c[2], c[2], c[3], c[3], c[0], c[3], tip, tip, c[2]];
  const geometry = new THREE.BufferGeometry().setFromPoints(pts);
  const lines = new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color }));
  lines.position.copy(cam.position);
  lines.quaternion.copy(cam.quaternion);
  return lines;
}

function labelOf(name, index) {
  const m = /^view_(\d+)_(.+)$/.exec(name || '');
  return m ? `${Number(m[1])} · ${m[2]}` : (name || `camera ${index}`);
}

function onLoad(gltf) {
  const root = gltf.scene;
  root.updateMatrixWorld(true);
  let faces = 0;
  root.traverse((obj) => {
    if (obj.isMesh) {
      const colors = obj.geometry.getAttribute('color');
      obj.material = new THREE.MeshBasicMaterial({ vertexColors: Boolean(colors), side: THREE.DoubleSide,
                                                   color: colors ? 0xffffff : 0xbbbbbb });
      faces += obj.geometry.index ? obj.geometry.index.count / 3 : obj.geometry.getAttribute('position').count / 3;
    }
  });
  scene.add(root);
  const box = new THREE.Box3().setFromObject(root);
  diagonal = box.isEmpty() ? 1 : Math.max(box.getSize(new THREE.Vector3()).length(), 1e-3);

  cameras = (gltf.cameras || []).filter((c) => c.isPerspectiveCamera).map((c, i) => {
    const position = new THREE.Vector3(), quaternion = new THREE.Quaternion(), scale = new THREE.Vector3();
    c.matrixWorld.decompose(position, quaternion, scale);
    return { name: c.name, label: labelOf(c.name, i), position, quaternion, fov: c.fov, aspect: c.aspect };
  });
  if (cameras.length === 0) {
    // A .glb without cameras: the export world puts the first view at the origin looking down -z.
    cameras = [{ name: 'default', label: 'default view', position: new THREE.Vector3(),
                 quaternion: new THREE.Quaternion(), fov: 60, aspect: 1 }];
  }
  state.cameras = cameras.map((c) => ({ name: c.name, label: c.label, position: c.position.toArray(),
                                        quaternion: c.quaternion.toArray(), fov: c.fov, aspect: c.aspect }));
  view.near = Math.min(0.01, diagonal * 1e-3);
  view.far = diagonal * 50;
  cameras.forEach((cam, i) => {
    const option = document.createElement('option');
    option.value = String(i);
    option.textContent = cam.label;
    cameraList.appendChild(option);
    frustums.add(frustumLines(cam, i === 0 ? 0xff8c1a : 0x4cc3ff, 0.04 * diagonal));
  });
  message.textContent = faces > 0 ? '' : 'The scene has no surfaces.';
  jumpTo(0);
  requestAnimationFrame(() => { state.ready = true; });
}

function setUpControls() {
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    canvas.focus();
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const k = LOOK_SPEED * THREE.MathUtils.degToRad(view.fov) / Math.max(canvas.clientHeight, 1);
    // The scene follows the pointer: dragging right turns the camera left, dragging down tilts it up.
    view.rotation.y += (e.clientX - drag.x) * k;
    view.rotation.x = THREE.MathUtils.clamp(view.rotation.x + (e.clientY - drag.y) * k, -1.55, 1.55);
    drag = { x: e.clientX, y: e.clientY };
    markMoved();
  });
  const endDrag = () => { drag = null; canvas.classList.remove('dragging'); };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const pixels = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
    walk([0, 0, -1], -pixels * WHEEL_STEP * diagonal);
  }, { passive: false });
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement) return;
    if (e.code.startsWith('Shift')) { held.set(e.code, performance.now()); return; }
    if (!MOVES[e.code] || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    if (held.has(e.code)) return;
    if (!e.repeat) walk(MOVES[e.code], KEY_STEP * diagonal);   // a tap always moves
    held.set(e.code, performance.now());
    requestRender();
  });
  window.addEventListener('keyup', (e) => held.delete(e.code));
  window.addEventListener('blur', () => held.clear());
  cameraList.addEventListener('change', () => { jumpTo(Number(cameraList.value)); canvas.focus(); });
  frustumToggle.addEventListener('change', () => { frustums.visible = frustumToggle.checked; requestRender(); });
  resetButton.addEventListener('click', () => { jumpTo(0); canvas.focus(); });
  new ResizeObserver(fitCanvas).observe(stage);
}

function main() {
  const url = new URLSearchParams(location.search).get('glb');
  if (!url) { fail('No scene yet: press Generate.'); return; }
  try {
    renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  } catch (err) {
    fail('This browser cannot show 3D (WebGL is not available); download scene.glb instead.');
    return;
  }
  renderer.outputColorSpace = THREE.LinearSRGBColorSpace;   // vertex colours are already display values
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  setUpControls();
  new GLTFLoader().load(url, onLoad,
    (p) => { if (p.total) message.textContent = `Loading the scene… ${Math.round(100 * p.loaded / p.total)}%`; },
    (err) => fail(`Could not load the scene (${(err && err.message) || err}).`));
}

main();
