"""Reading an uploaded file from a multipart request: its size, declared type and first
bytes are checked before anything is stored. Refusals are request-parsing errors (413,
415, 400), as for any body the API cannot read."""

from urllib.parse import quote

from onestop.common.config import env
from onestop.common.http import BadRequest, PayloadTooLarge, UnsupportedMediaType

# accepted upload types, recognised by their first bytes as well as their declared type
UPLOAD_TYPES = {
    "application/pdf": b"%PDF",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
MULTIPART_OVERHEAD = 4096  # what the form's boundaries and headers may add to the file


def max_bytes():
    return int(env("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def read_file(request):
    """(data, filename, content type) of the file in the form field 'file'."""
    limit = max_bytes()
    if request.content_length and request.content_length > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("upload a file as multipart/form-data in the field 'file'")
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("no file", fields={"file": ["a file is required in field 'file'"]})
    data = upload.read(limit + 1)  # one byte more than allowed tells a file too long
    if len(data) > limit:
        raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
    content_type = upload.mimetype
    magic = UPLOAD_TYPES.get(content_type)
    if magic is None:
        raise UnsupportedMediaType(
            f"type {content_type or 'unknown'} is not accepted",
            fields={"file": [f"accepted types: {', '.join(UPLOAD_TYPES)}"]},
        )
    if not data.startswith(magic):
        raise BadRequest(
            "file content does not match its type",
            fields={"file": [f"content is not {content_type}"]},
        )
    return data, (upload.filename or "upload")[:200], content_type


def receipt(doc):
    """What the uploader gets back: the id to name in an application's materials."""
    return {
        "file_id": doc["_id"],
        "size": doc["size"],
        "sha256": doc["sha256"],
        "content_type": doc["content_type"],
    }


def download_headers(upload):
    """How a stored file is sent back: its checked type, never sniffed, not cached by
    shared caches, as an attachment when opened directly (the screens show it from a blob)."""
    name = quote(upload.get("filename") or "material", safe="")
    return {
        "Content-Type": upload["content_type"],
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


def owner(principal):
    """Who an upload belongs to: its uploader (role and subject). Only they may attach it to
    an application or a correction (an upload id seen elsewhere is of no use to anyone else)."""
    return {"role": principal.role, "sub": principal.sub}
