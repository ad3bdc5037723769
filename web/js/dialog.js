// The photo dialog: a native modal <dialog> (the page behind is inert, Esc closes it), Tab kept
// inside it, and focus handed back to the thumbnail that opened it.
import { t } from './i18n.js';

let opener = null;

export function initLightbox() {
  const dialog = document.getElementById('lightbox');
  document.getElementById('lightbox-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const focusable = [...dialog.querySelectorAll('a[href], button:not([disabled])')];
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  });
  dialog.addEventListener('close', () => {
    document.getElementById('lightbox-image').removeAttribute('src');
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}

export function openLightbox({ src, caption, alt }) {
  const dialog = document.getElementById('lightbox');
  opener = document.activeElement;
  const image = document.getElementById('lightbox-image');
  image.src = src;
  image.alt = alt || caption || '';
  document.getElementById('lightbox-caption').textContent = caption || '';
  const link = document.getElementById('lightbox-open');
  link.href = src;
  link.textContent = t('photo.open');
  document.getElementById('lightbox-close').textContent = t('app.close');
  dialog.showModal();
  document.getElementById('lightbox-close').focus();
}
