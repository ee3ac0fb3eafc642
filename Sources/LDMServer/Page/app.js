// The page: talks to the ldm-edit server's JSON API (every call carries the access token), follows the
// page's jobs over server-sent events, and keeps the list of this page's results.
import { MaskEditor, isTyping } from './editor.js';

const $ = id => document.getElementById(id);
const state = { token: '', session: '', models: [], info: null, image: null, job: null, results: [], shown: null };

// MARK: token and API

function takeToken() {
  const params = new URLSearchParams(location.search);
  const fromURL = params.get('token');
  if (fromURL) {
    sessionStorage.setItem('ldm-edit-token', fromURL);
    // Out of the address bar (and of screenshots and history); the tab keeps it for reloads.
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
  }
  return fromURL || sessionStorage.getItem('ldm-edit-token') || '';
}

async function api(path, options = {}) {
  const headers = Object.assign({ 'X-LDM-Token': state.token }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

/** A URL for an <img>, a download or an EventSource, which cannot send headers: the token in the query. */
const withToken = path => `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(state.token)}`;
const previewURL = image => withToken(`/api/images/${image.id}/preview`);
const fileURL = image => withToken(`/api/images/${image.id}/file`);

function say(message) { $('message').textContent = message || ''; }

// MARK: start

const editor = new MaskEditor({ viewport: $('viewport'), stage: $('stage'), image: $('source'), canvas: $('mask-canvas'), onChange: refresh });

async function start() {
  state.token = takeToken();
  if (!state.token) {
    $('server-status').textContent = 'no access token: open the URL `ldm-edit serve` printed';
    return;
  }
  try {
    state.info = await api('/api/info');
    state.models = (await api('/api/models')).models;
    state.session = (await api('/api/sessions', { method: 'POST' })).session;
  } catch (error) {
    $('server-status').textContent = `cannot reach the server: ${error.message}`;
    return;
  }
  $('server-status').textContent = `ldm-edit ${state.info.version}`;
  $('steps').value = state.info.default_steps;
  $('guidance').value = state.info.default_guidance;
  for (const name of state.info.samplers) $('sampler').append(new Option(name, name));
  fillModels();
  listen();
  follow();
  document.body.dataset.ready = 'true';
}

/** One event stream per page: its jobs as they move. Closing the page closes it, which cancels them. */
function follow() {
  const events = new EventSource(withToken(`/api/events?session=${state.session}`));
  events.addEventListener('job', event => showJob(JSON.parse(event.data)));
  events.onerror = () => { $('server-status').textContent = 'connection to the server lost; retrying…'; };
  events.onopen = () => { $('server-status').textContent = `ldm-edit ${state.info.version}`; };
}

// MARK: choices

function fillModels() {
  const task = $('task').value;
  const select = $('model');
  const previous = select.value;
  select.replaceChildren();
  const models = state.models.filter(m => m.task === task);
  for (const model of models) select.append(new Option(model.name + (model.default ? ' (default)' : ''), model.id));
  if (models.some(m => m.id === previous)) select.value = previous;
  else if (models.length) select.value = (models.find(m => m.default) || models[0]).id;
  chooseModel();
}

function chooseModel() {
  const model = state.models.find(m => m.id === $('model').value);
  $('model-description').textContent = model ? model.description.join('\n') : 'No model for this task: pass --models to `ldm-edit serve`.';
  const diffusion = model && model.default_sampler;
  if (diffusion) $('sampler').value = model.default_sampler;
  // Each model has its own step count (LDM inpainting 15 DPM++ Karras steps, the others 50).
  if (diffusion && model.default_steps !== undefined) $('steps').value = model.default_steps;
  for (const id of ['sampler', 'steps', 'seed-random']) $(id).disabled = !diffusion;
  $('seed').disabled = !diffusion || $('seed-random').checked;
  $('prompt-fields').hidden = !(model && model.takes_prompt);
  // Each text-guided model has its own guidance default (the x4 upscaler 9, SD inpainting 7.5).
  if (model && model.default_guidance !== undefined) $('guidance').value = model.default_guidance;
  // Coarse-to-fine filling of large holes: the LDM inpainting models (not the text-guided ones).
  $('hole-fields').hidden = !(diffusion && model.task === 'inpaint' && !model.takes_prompt);
  // Consensus of several seeds: every diffusion inpainting model.
  $('candidate-fields').hidden = !(diffusion && model.task === 'inpaint');
  // Each inpainting model has its own (ldm-edit's own models: 8 seeds, blended with their mean; the others 1).
  if (model && model.default_candidates !== undefined) {
    $('candidates').value = model.default_candidates;
    $('blend-candidates').checked = model.default_blend_candidates;
  }
  const noise = model && model.noise_levels;
  $('noise-fields').hidden = !noise;
  if (noise) {
    $('noise-level').min = noise.min;
    $('noise-level').max = noise.max;
    $('noise-level').value = noise.default;
  }
  refresh();
}

function refresh() {
  const busy = state.job && (state.job.state === 'queued' || state.job.state === 'running');
  const needsMask = $('task').value === 'inpaint';
  $('run').disabled = !state.image || !$('model').value || busy || (needsMask && !editor.hasMask());
  $('cancel').disabled = !busy;
  $('zoom-value').textContent = Math.round(editor.view.scale * 100) + '%';
  $('empty-hint').hidden = editor.loaded;
  document.body.dataset.image = state.image ? state.image.id : '';
}

// MARK: images

async function open(file) {
  say('');
  if (file.size > state.info.max_upload_bytes) {
    say(`${file.name} is ${file.size} bytes; this server accepts at most ${state.info.max_upload_bytes}.`);
    return;
  }
  try {
    $('image-info').textContent = `uploading ${file.name}…`;
    const image = await api(`/api/images?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file });
    await useImage(image);
  } catch (error) {
    $('image-info').textContent = '';
    say(error.message);
  }
}

async function useImage(image) {
  state.image = image;
  const depth = image.bit_depth === 16 ? '16-bit (shown tone-mapped, edited at 16 bits)' : '8-bit';
  const layout = ['gray', 'gray + alpha', 'RGB', 'RGBA'][image.channels - 1];
  $('image-info').textContent = `${image.name}: ${image.width}×${image.height}, ${depth} ${layout}`;
  await editor.load(previewURL(image), image.width, image.height);
  refresh();
}

// MARK: jobs

async function run() {
  say('');
  const model = state.models.find(m => m.id === $('model').value);
  const job = { task: $('task').value, model: model.id, image: state.image.id, session: state.session };
  if (model.default_sampler) {
    job.sampler = $('sampler').value;
    job.steps = Number($('steps').value);
    job.seed = $('seed-random').checked ? null : Number($('seed').value);
  }
  if (model.takes_prompt) {
    job.prompt = $('prompt').value;
    if ($('negative-prompt').value) job.negative_prompt = $('negative-prompt').value;
    job.guidance = Number($('guidance').value);
  }
  if (model.noise_levels) job.noise_level = Number($('noise-level').value);
  if (!$('hole-fields').hidden && $('hole-limit').value !== '') job.hole_limit = Number($('hole-limit').value);
  if (!$('candidate-fields').hidden) {
    job.candidates = Number($('candidates').value);
    if (job.candidates > 1) job.blend_candidates = $('blend-candidates').checked;
  }
  $('run').disabled = true;
  try {
    if (job.task === 'inpaint') {
      const mask = await api('/api/images?name=mask.png', { method: 'POST', body: await editor.maskBlob() });
      job.mask = mask.id;
      document.body.dataset.lastMask = mask.id;
    }
    state.job = await api('/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(job) });
    state.job.input = state.image;
    showJob(state.job);
  } catch (error) {
    say(error.message);
    refresh();
  }
}

async function cancel() {
  if (!state.job) return;
  try { await api(`/api/jobs/${state.job.id}`, { method: 'DELETE' }); } catch (error) { say(error.message); }
}

function showJob(job) {
  if (!state.job || job.id !== state.job.id) return;
  const input = state.job.input;
  state.job = Object.assign(job, { input });
  $('seed-used').textContent = job.seed !== undefined && job.sampler ? `seed ${job.seed}${job.seed_given ? '' : ' (random)'}` : '';
  const progress = $('progress');
  const text = $('progress-text');
  switch (job.state) {
    case 'queued':
      progress.removeAttribute('value');
      text.textContent = job.ahead ? `waiting: ${job.ahead} job${job.ahead === 1 ? '' : 's'} ahead` : 'starting…';
      break;
    case 'running':
      if (job.steps) {
        progress.max = job.steps;
        progress.value = job.step;
        const left = job.seconds_left !== undefined ? `, about ${formatSeconds(job.seconds_left)} left` : '';
        text.textContent = `step ${job.step}/${job.steps}${left}`;
      } else {
        progress.removeAttribute('value');
        text.textContent = 'loading the model…';
      }
      break;
    case 'done':
      progress.max = 1; progress.value = 1;
      text.textContent = `done in ${formatSeconds(job.seconds || 0)}`;
      addResult(state.job);
      break;
    case 'failed':
      progress.max = 1; progress.value = 0;
      text.textContent = 'failed';
      say(job.error);
      break;
    case 'cancelled':
      progress.max = 1; progress.value = 0;
      text.textContent = 'cancelled';
      break;
  }
  document.body.dataset.jobState = job.state;
  refresh();
}

const formatSeconds = s => (s < 90 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

// MARK: results

function addResult(job) {
  if (state.results.some(r => r.job.id === job.id)) return;
  const entry = { job, input: job.input, output: job.result };
  state.results.push(entry);
  const item = document.createElement('li');
  const thumbnail = document.createElement('img');
  thumbnail.src = previewURL(entry.output);
  thumbnail.alt = entry.output.name;
  const caption = document.createElement('div');
  caption.textContent = `${entry.output.name} · ${job.model_name}${job.sampler ? ` · seed ${job.seed}` : ''}`;
  item.append(thumbnail, caption);
  item.addEventListener('click', () => showResult(entry, item));
  $('result-list').append(item);
  showResult(entry, item);
  document.body.dataset.lastResult = entry.output.id;
}

function showResult(entry, item) {
  state.shown = entry;
  for (const li of $('result-list').children) li.classList.toggle('selected', li === item);
  $('result').hidden = false;
  // One box for both, the result's shape: an upscaled result and its small input line up.
  $('compare').style.aspectRatio = `${entry.output.width} / ${entry.output.height}`;
  $('before').src = previewURL(entry.input);
  $('after').src = previewURL(entry.output);
  const job = entry.job;
  $('result-info').textContent = `${entry.output.name}: ${entry.output.width}×${entry.output.height}, ${entry.output.bit_depth}-bit · ` +
    `${job.task} with ${job.model_name}` + (job.sampler ? `, ${job.sampler}, ${job.steps_requested} steps, seed ${job.seed}` : '') +
    (job.plan ? ` · ${job.plan}` : '');
  $('download').href = fileURL(entry.output);
  $('download').setAttribute('download', entry.output.name);
}

// MARK: wiring

function listen() {
  $('file-input').addEventListener('change', event => { if (event.target.files[0]) open(event.target.files[0]); event.target.value = ''; });
  document.addEventListener('dragover', event => { event.preventDefault(); document.body.classList.add('dragging'); });
  document.addEventListener('dragleave', event => { if (!event.relatedTarget) document.body.classList.remove('dragging'); });
  document.addEventListener('drop', event => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const file = event.dataTransfer.files[0];
    if (file) open(file);
  });
  $('task').addEventListener('change', () => { fillModels(); refresh(); });
  $('model').addEventListener('change', chooseModel);
  $('seed-random').addEventListener('change', () => { $('seed').disabled = $('seed-random').checked; });
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', cancel);
  const tools = { 'tool-brush': 'brush', 'tool-eraser': 'eraser', 'tool-pan': 'pan' };
  const chooseTool = id => {
    editor.setTool(tools[id]);
    for (const other of Object.keys(tools)) $(other).classList.toggle('active', other === id);
  };
  for (const id of Object.keys(tools)) $(id).addEventListener('click', () => chooseTool(id));
  $('brush-size').addEventListener('input', () => { editor.setSize($('brush-size').value); $('brush-size-value').textContent = $('brush-size').value; });
  $('undo').addEventListener('click', () => editor.undo());
  $('redo').addEventListener('click', () => editor.redo());
  $('clear').addEventListener('click', () => editor.clear());
  $('invert').addEventListener('click', () => editor.invert());
  $('zoom-in').addEventListener('click', () => editor.zoomBy(1.25));
  $('zoom-out').addEventListener('click', () => editor.zoomBy(0.8));
  $('zoom-fit').addEventListener('click', () => editor.fit());
  $('compare-slider').addEventListener('input', () => {
    const at = $('compare-slider').value;
    $('after-clip').style.clipPath = `inset(0 0 0 ${at}%)`;
    $('divider').style.left = `${at}%`;
  });
  $('use-result').addEventListener('click', () => { if (state.shown) useImage(state.shown.output); });
  window.addEventListener('keydown', event => {
    if (isTyping(event)) return;
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && key === 'z') { event.preventDefault(); event.shiftKey ? editor.redo() : editor.undo(); }
    else if (key === 'b') chooseTool('tool-brush');
    else if (key === 'e') chooseTool('tool-eraser');
    else if (key === '+' || key === '=') editor.zoomBy(1.25);
    else if (key === '-') editor.zoomBy(0.8);
    else if (key === '0') editor.fit();
  });
  window.addEventListener('resize', () => editor.fit());
}

start();
