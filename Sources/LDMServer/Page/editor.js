// The mask editor: the image and a canvas of its exact size stacked in a zoomable, pannable stage.
// Strokes are painted in image pixels on the canvas (shown half transparent); maskBlob() turns them into
// the PNG the server reads: white = repaint, black = keep, same size as the image.

const STROKE = 'rgb(255, 48, 48)';
const HISTORY_BYTES = 256 * 1024 * 1024; // undo snapshots, all together

export class MaskEditor {
  constructor({ viewport, stage, image, canvas, onChange }) {
    Object.assign(this, { viewport, stage, image, canvas, onChange: onChange || (() => {}) });
    this.context = canvas.getContext('2d', { willReadFrequently: true });
    this.tool = 'brush';
    this.size = 32;
    this.view = { scale: 1, x: 0, y: 0 };
    this.undoStack = [];
    this.redoStack = [];
    this.width = 0;
    this.height = 0;
    this.spaceHeld = false;
    this.listen();
  }

  /** Shows the image at `url` (width × height pixels) with an empty mask. */
  load(url, width, height) {
    return new Promise((resolve, reject) => {
      this.image.onload = () => resolve();
      this.image.onerror = () => reject(new Error('the preview could not be shown'));
      this.width = width;
      this.height = height;
      this.canvas.width = width;
      this.canvas.height = height;
      for (const element of [this.image, this.canvas]) {
        element.style.width = width + 'px';
        element.style.height = height + 'px';
      }
      this.undoStack = [];
      this.redoStack = [];
      this.image.src = url;
      this.fit();
      this.onChange();
    });
  }

  get loaded() { return this.width > 0; }

  setTool(tool) { this.tool = tool; this.viewport.classList.toggle('panning', tool === 'pan'); }

  setSize(size) { this.size = Math.max(1, Number(size) || 1); }

  // MARK: history

  snapshot() {
    const bytes = this.width * this.height * 4;
    const limit = Math.max(3, Math.floor(HISTORY_BYTES / Math.max(bytes, 1)));
    this.undoStack.push(this.context.getImageData(0, 0, this.width, this.height));
    while (this.undoStack.length > limit) this.undoStack.shift();
    this.redoStack = [];
  }

  undo() { this.swap(this.undoStack, this.redoStack); }
  redo() { this.swap(this.redoStack, this.undoStack); }

  swap(from, to) {
    if (!from.length) return;
    to.push(this.context.getImageData(0, 0, this.width, this.height));
    this.context.putImageData(from.pop(), 0, 0);
    this.onChange();
  }

  clear() {
    if (!this.loaded) return;
    this.snapshot();
    this.context.clearRect(0, 0, this.width, this.height);
    this.onChange();
  }

  invert() {
    if (!this.loaded) return;
    this.snapshot();
    const copy = document.createElement('canvas');
    copy.width = this.width;
    copy.height = this.height;
    copy.getContext('2d').drawImage(this.canvas, 0, 0);
    const c = this.context;
    c.save();
    c.globalCompositeOperation = 'source-over';
    c.clearRect(0, 0, this.width, this.height);
    c.fillStyle = STROKE;
    c.fillRect(0, 0, this.width, this.height);
    c.globalCompositeOperation = 'destination-out';
    c.drawImage(copy, 0, 0);
    c.restore();
    this.onChange();
  }

  /** Whether any pixel is painted (at least half covered). */
  hasMask() {
    if (!this.loaded) return false;
    const data = this.context.getImageData(0, 0, this.width, this.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) return true;
    return false;
  }

  /** The mask as a PNG blob: white where painted, black elsewhere, the image's size. */
  maskBlob() {
    const out = document.createElement('canvas');
    out.width = this.width;
    out.height = this.height;
    const g = out.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, this.width, this.height);
    g.globalCompositeOperation = 'destination-in';
    g.drawImage(this.canvas, 0, 0);
    g.globalCompositeOperation = 'destination-over';
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.width, this.height);
    return new Promise((resolve, reject) => out.toBlob(b => (b ? resolve(b) : reject(new Error('could not encode the mask'))), 'image/png'));
  }

  // MARK: view

  apply() {
    const { scale, x, y } = this.view;
    this.stage.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
    this.onChange();
  }

  fit() {
    if (!this.loaded) return;
    const box = this.viewport.getBoundingClientRect();
    const scale = Math.min(box.width / this.width, box.height / this.height, 1) || 1;
    this.view = { scale, x: (box.width - this.width * scale) / 2, y: (box.height - this.height * scale) / 2 };
    this.apply();
  }

  /** Zooms by `factor` keeping the point under (cx, cy) (viewport pixels; default: the centre) in place. */
  zoomBy(factor, cx, cy) {
    const box = this.viewport.getBoundingClientRect();
    if (cx === undefined) { cx = box.width / 2; cy = box.height / 2; }
    const scale = Math.min(32, Math.max(0.02, this.view.scale * factor));
    const k = scale / this.view.scale;
    this.view = { scale, x: cx - (cx - this.view.x) * k, y: cy - (cy - this.view.y) * k };
    this.apply();
  }

  /** Image pixel coordinates of a pointer event. */
  toImage(event) {
    const box = this.viewport.getBoundingClientRect();
    return { x: (event.clientX - box.left - this.view.x) / this.view.scale, y: (event.clientY - box.top - this.view.y) / this.view.scale };
  }

  // MARK: input

  listen() {
    let stroke = null;
    let pan = null;
    const v = this.viewport;
    v.addEventListener('pointerdown', event => {
      if (!this.loaded) return;
      const panning = this.tool === 'pan' || this.spaceHeld || event.button === 1;
      if (panning) {
        pan = { x: event.clientX - this.view.x, y: event.clientY - this.view.y };
      } else if (event.button === 0) {
        this.snapshot();
        stroke = this.toImage(event);
        this.paint(stroke, stroke);
      } else {
        return;
      }
      v.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    v.addEventListener('pointermove', event => {
      if (pan) {
        this.view.x = event.clientX - pan.x;
        this.view.y = event.clientY - pan.y;
        this.apply();
      } else if (stroke) {
        const point = this.toImage(event);
        this.paint(stroke, point);
        stroke = point;
      }
    });
    const end = () => {
      if (stroke) this.onChange();
      stroke = null;
      pan = null;
    };
    v.addEventListener('pointerup', end);
    v.addEventListener('pointercancel', end);
    v.addEventListener('wheel', event => {
      if (!this.loaded) return;
      event.preventDefault();
      const box = v.getBoundingClientRect();
      this.zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    window.addEventListener('keydown', event => { if (event.code === 'Space' && !isTyping(event)) { this.spaceHeld = true; event.preventDefault(); } });
    window.addEventListener('keyup', event => { if (event.code === 'Space') this.spaceHeld = false; });
  }

  paint(from, to) {
    const c = this.context;
    c.save();
    c.globalCompositeOperation = this.tool === 'eraser' ? 'destination-out' : 'source-over';
    c.strokeStyle = STROKE;
    c.fillStyle = STROKE;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.lineWidth = this.size;
    c.beginPath();
    if (from.x === to.x && from.y === to.y) {
      c.arc(from.x, from.y, this.size / 2, 0, Math.PI * 2);
      c.fill();
    } else {
      c.moveTo(from.x, from.y);
      c.lineTo(to.x, to.y);
      c.stroke();
    }
    c.restore();
  }
}

export function isTyping(event) {
  const tag = event.target && event.target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}
