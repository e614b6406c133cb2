// hls.js ships no types for its light build (no subtitles, alternate audio or DRM), whose API is
// the full build's: reuse those.
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
