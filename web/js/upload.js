// Photos: a file input that can open the camera, previews (blob: URLs), and the upload of each
// file through POST /api/v1/attachments before the form that names them by SHA-256 is sent.
import { h, clear, field } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

export function photoPicker({ label, testid, multiple = true }) {
  const files = [];
  const input = h('input', {
    type: 'file', accept: 'image/*', capture: 'environment', multiple,
    dataset: { testid: testid || 'photo-input' },
  });
  const list = h('ul', { class: 'photo-previews', 'aria-live': 'polite' });
  const redraw = () => {
    for (const img of list.querySelectorAll('img')) URL.revokeObjectURL(img.src);
    clear(list);
    files.forEach((file, index) => {
      list.append(h('li', {},
        h('img', { src: URL.createObjectURL(file), alt: file.name }),
        h('span', { class: 'photo-name' }, file.name),
        h('button', {
          type: 'button', class: 'btn btn-quiet btn-small',
          'aria-label': t('photo.removeNamed', { name: file.name }),
          onclick: () => { files.splice(index, 1); redraw(); },
        }, t('photo.remove'))));
    });
  };
  input.addEventListener('change', () => {
    if (!multiple) files.length = 0;
    files.push(...input.files);
    input.value = '';
    redraw();
  });
  const element = h('div', { class: 'photo-picker' }, field(label, input, t('photo.hint')), list);
  return {
    element,
    files: () => [...files],
    reset: () => { files.length = 0; redraw(); },
  };
}

// Uploads one after the other (a phone on plant Wi-Fi) and returns the SHA-256 of each.
export async function uploadPhotos(files, onProgress) {
  const hashes = [];
  for (let i = 0; i < files.length; ++i) {
    if (onProgress) onProgress(t('photo.uploading', { n: i + 1, total: files.length, name: files[i].name }));
    const stored = await api.upload(files[i]);
    hashes.push(stored.sha256);
  }
  if (onProgress) onProgress('');
  return hashes;
}
