// Package hub downloads model files from the Hugging Face Hub and keeps them in
// the Hugging Face hub cache, so files fetched by Hugging Face tools (Python
// huggingface_hub, transformers, the hf CLI) are reused here and the other way
// round.
//
// A file is named by its repo ("schmuell/sd-turbo-ort-web"), a revision (a
// pinned 40-hex commit hash, or a branch or tag such as "main") and its path
// in the repo ("unet/model.onnx"). It is fetched from
//
//	{BaseURL}/{repo}/resolve/{revision}/{path}
//
// unless Client.URLs overrides that file's URL.
//
// # Cache layout
//
// The cache root is Client.CacheDir, else $HF_HUB_CACHE, else $HF_HOME/hub,
// else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (see
// DefaultCacheDir). Under it, as huggingface_hub lays it out:
//
//	models--{org}--{name}/blobs/{etag}                 file content, named by the server's ETag
//	                                                   (the sha256 for LFS files) or by the
//	                                                   content's sha256 when the server sent none
//	models--{org}--{name}/blobs/{etag}.incomplete      a download in progress (resumable)
//	models--{org}--{name}/snapshots/{commit}/{path}    relative symlink to the blob (a copy where
//	                                                   symlinks are not available)
//	models--{org}--{name}/refs/{branch}                commit hash a branch or tag name resolved to
//	.locks/models--{org}--{name}/{etag}.lock           one downloader per blob at a time
//
// # Download
//
// Fetch first sends a HEAD request to the resolve URL, following relative
// redirects only (a renamed repo), like huggingface_hub. From it come the
// commit (X-Repo-Commit), the blob name (X-Linked-Etag, else ETag), the size
// (X-Linked-Size, else Content-Length) and, for LFS files, the expected sha256
// (X-Linked-Etag). The content is then fetched with GET from where the
// resolve URL redirects (the CDN), streamed into {blob}.incomplete, resumed
// with an HTTP Range request after an interruption (also one left by an
// earlier process), checked against the size and the sha256, and only then
// renamed into place. A file that fails a check is deleted and never used.
// 5xx answers, 429 and connection errors are retried with exponential backoff
// (bounded; an attempt that made progress resets the count).
//
// Downloaders of the same blob, in one process or several, exclude each
// other with the lock file: flock(2) on Linux, macOS and the BSDs (released by
// the kernel if the holder dies), elsewhere a file created with O_EXCL that
// its holder keeps fresh and that waiters take over once it is 30 s stale.
// A waiter then finds the finished blob instead of downloading it again.
//
// With a pinned commit hash, a file already in the cache is returned without
// any network request. In offline mode (Client.Offline or HF_HUB_OFFLINE=1)
// only the cache is used.
//
// Errors are *FileError values naming the repo, revision and path; they match
// ErrNotFound, ErrAccessDenied, ErrNotCached, ErrIntegrity or the context's
// error with errors.Is.
package hub
