/**
 * Sending a video's source file with XMLHttpRequest, because fetch cannot report upload progress:
 * `onProgress` gets the fraction sent. Errors come back as ApiError in the API's shape; an expired
 * token is refreshed once and the upload started again.
 */
import { session, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';

export type UploadAccepted = Schemas['UploadAccepted'];

export interface UploadHandle {
  done: Promise<UploadAccepted>;
  abort(): void;
}

function errorOf(xhr: XMLHttpRequest): ApiError {
  if (xhr.status === 0) return new ApiError(0, 'network', 'the server could not be reached');
  try {
    const body = JSON.parse(xhr.responseText) as { error?: unknown; message?: unknown; details?: unknown };
    if (typeof body.error === 'string' && typeof body.message === 'string') {
      return new ApiError(xhr.status, body.error, body.message, body.details);
    }
  } catch {
    // not JSON: a proxy's page
  }
  return new ApiError(xhr.status, `http_${xhr.status}`, xhr.statusText);
}

function send(
  videoId: string,
  file: Blob,
  token: string,
  onProgress: (fraction: number) => void,
  started: (xhr: XMLHttpRequest) => void,
): Promise<UploadAccepted> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/videos/${encodeURIComponent(videoId)}/media`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 202 || xhr.status === 200) resolve(JSON.parse(xhr.responseText) as UploadAccepted);
      else reject(errorOf(xhr));
    };
    xhr.onerror = () => reject(errorOf(xhr));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'the upload was cancelled'));
    started(xhr);
    xhr.send(file);
  });
}

export function uploadFile(
  videoId: string,
  file: Blob,
  onProgress: (fraction: number) => void,
): UploadHandle {
  let current: XMLHttpRequest | null = null;
  let aborted = false;
  const started = (xhr: XMLHttpRequest) => {
    current = xhr;
  };
  const done = (async () => {
    const token = await session.accessToken();
    if (token === null) throw new ApiError(401, 'unauthenticated', 'sign in first');
    try {
      return await send(videoId, file, token, onProgress, started);
    } catch (error) {
      if (aborted || !(error instanceof ApiError) || error.code !== 'token_expired') throw error;
      const fresh = await session.refresh();
      if (fresh === null) throw error;
      onProgress(0);
      return send(videoId, file, fresh, onProgress, started);
    }
  })();
  return {
    done,
    abort() {
      aborted = true;
      current?.abort();
    },
  };
}
