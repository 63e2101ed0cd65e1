import io

import pytest
from PIL import Image

from crm_platform.blobs import BlobStore
from crm_platform.errors import PayloadTooLarge, UnsupportedMediaType
from crm_platform.personal_data import PersonalDataCipher, SubjectErased
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.adapters import images
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain.events import data_subject
from contacts.domain import commands
from contacts.domain.attachments import (
    PROFILE_PICTURE, Attachment, AttachmentAdded, AttachmentDeleted, AttachmentNotFound, NoProfilePicture, StoredFile,
    picture_id,
)
from contacts.domain.errors import ContactNotFound
from contacts.domain.file_types import IMAGE_TYPES, EmptyFile, FileContentMismatch, check_file, clean_file_name
from contacts.service_layer import attachment_handlers as files, handlers, moving
from contacts.service_layer.unit_of_work import UnitOfWork

PDF = b"%PDF-1.7\n" + b"x" * 3000
MAX = 10 * 2**20


def image(width: int, height: int, fmt: str = "PNG", mode: str = "RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30, 128)[: len(mode)]).save(out, fmt, **save)
    return out.getvalue()


class FailingAttachmentCommits(InMemoryEventStore):
    def append(self, events):
        if events[0].aggregate_type == "Attachment":
            raise RuntimeError("the database went away")
        super().append(events)


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def blobs():
    return BlobStore(InMemoryCollection(), InMemoryCollection(), chunk_size=1000)


@pytest.fixture
def uow(cipher, blobs):
    return UnitOfWork(InMemoryEventStore(), cipher, InMemoryIdentityClaims(), AttachmentFiles(blobs, cipher))


def contact(uow, account="acct-1"):
    return handlers.create_contact(commands.CreateContact(account, {"first_name": "Louise"}), uow)


def attach(uow, contact_id, data=PDF, name="devis.pdf", content_type="application/pdf", account="acct-1"):
    return files.add_attachment(commands.AddAttachment(account, contact_id, name, content_type, data, MAX), uow)


def set_picture(uow, contact_id, data, account="acct-1"):
    return files.set_profile_picture(
        commands.SetProfilePicture(account, contact_id, "moi.png", "image/png", data, 5 * 2**20), uow)


def content(opened) -> bytes:
    return b"".join(opened[2])


def blob_count(blobs) -> int:
    """Blobs stored, complete or not."""
    return len(set(blobs.manifests.documents) | {key.split(":")[0] for key in blobs.chunks.documents})


# --- what may be attached ---------------------------------------------------------------------

def test_a_file_larger_than_the_limit_is_413_with_the_limit_stated():
    with pytest.raises(PayloadTooLarge) as error:
        check_file("a.pdf", "application/pdf", PDF, max_bytes=1000)
    assert error.value.status == 413 and "1000 bytes" in error.value.detail and error.value.extra["max_bytes"] == 1000


def test_a_type_not_accepted_is_415_listing_the_accepted_ones():
    with pytest.raises(UnsupportedMediaType) as error:
        check_file("page.html", "text/html", b"<html>", max_bytes=MAX)
    assert error.value.status == 415 and "application/pdf" in error.value.detail
    assert "image/png" in error.value.extra["allowed"]
    with pytest.raises(UnsupportedMediaType):
        check_file("devis.pdf", "application/pdf", PDF, max_bytes=MAX, allowed=IMAGE_TYPES)


@pytest.mark.parametrize("content_type, data", [
    ("image/png", b"GIF89a" + b"\0" * 20), ("application/pdf", b"<html>not a pdf</html>"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", PDF), ("text/plain", b"a\0b"),
])
def test_content_that_is_not_what_its_type_says_is_422(content_type, data):
    with pytest.raises(FileContentMismatch) as error:
        check_file("f", content_type, data, max_bytes=MAX)
    assert error.value.status == 422 and error.value.slug == "file-content-mismatch"


def test_a_generic_type_is_read_from_the_extension_and_aliases_are_understood():
    assert check_file("Devis.PDF", "application/octet-stream", PDF, max_bytes=MAX).content_type == "application/pdf"
    assert check_file("photo", "image/jpg", image(4, 4, "JPEG"), max_bytes=MAX).content_type == "image/jpeg"
    assert check_file("notes.txt", "text/plain; charset=utf-8", "é".encode(), max_bytes=MAX).content_type == "text/plain"
    with pytest.raises(EmptyFile):
        check_file("vide.txt", "text/plain", b"", max_bytes=MAX)


def test_file_names_lose_folders_and_control_characters_and_keep_their_extension():
    assert clean_file_name("C:\\fakepath\\devis\u0007 été.pdf", "application/pdf") == "devis été.pdf"
    assert clean_file_name("../../etc/passwd", "text/plain") == "passwd"
    assert clean_file_name("", "image/png") == "file.png"
    long = clean_file_name("a" * 300 + ".docx", "application/zip")
    assert len(long) == 255 and long.endswith(".docx")


# --- images -------------------------------------------------------------------------------------

def test_pillow_checks_images_and_refuses_broken_ones():
    images.check_image(image(10, 10), "image/png")
    with pytest.raises(FileContentMismatch):
        images.check_image(image(10, 10)[:40], "image/png")
    with pytest.raises(FileContentMismatch):
        images.check_image(image(10, 10, "JPEG"), "image/png")


@pytest.mark.parametrize("size, expected", [((300, 150), (128, 64)), ((50, 400), (16, 128)), ((64, 64), (64, 64))])
def test_thumbnails_fit_in_128_and_keep_the_aspect(size, expected):
    data, content_type = images.thumbnail(image(*size, "JPEG"), "image/jpeg")
    assert content_type == "image/jpeg" and Image.open(io.BytesIO(data)).size == expected


def test_a_transparent_picture_gets_a_png_thumbnail_and_a_rotated_photo_is_turned_upright():
    _, content_type = images.thumbnail(image(200, 200, mode="RGBA"), "image/png")
    assert content_type == "image/png"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to show
    data, _ = images.thumbnail(image(300, 150, "JPEG", exif=exif.tobytes()), "image/jpeg")
    assert Image.open(io.BytesIO(data)).size == (64, 128)


# --- the aggregate -----------------------------------------------------------------------------

def test_a_new_picture_replaces_the_old_one_in_one_commit():
    first, second = (StoredFile("p.png", "image/png", 10, "ab", blob, f"{blob}-small") for blob in ("b1", "b2"))
    picture = Attachment(picture_id("c1"), "acct-1", "c1")
    assert picture.set_as_picture(first) is None
    picture.pending.clear()
    assert picture.set_as_picture(second) == first
    assert [type(e) for e in picture.pending] == [AttachmentDeleted, AttachmentAdded]
    assert picture.live and picture.kind == PROFILE_PICTURE and picture.revision == 3
    picture.delete()
    with pytest.raises(AttachmentNotFound):
        picture.delete()


# --- the handlers, on fakes --------------------------------------------------------------------

def test_an_attachment_comes_back_byte_for_byte_and_only_to_its_account(uow, blobs):
    louise = contact(uow)
    data = PDF * 5  # several chunks
    attachment = attach(uow, louise.id, data)
    assert attachment.file.size == len(data) and attachment.file.file_name == "devis.pdf"
    assert content(files.open_attachment("acct-1", louise.id, attachment.id, uow)) == data
    with pytest.raises(ContactNotFound):
        files.open_attachment("acct-2", louise.id, attachment.id, uow)
    with pytest.raises(ContactNotFound):
        attach(uow, louise.id, account="acct-2")
    with pytest.raises(AttachmentNotFound):
        files.delete_attachment(commands.DeleteAttachment("acct-1", contact(uow).id, attachment.id), uow)
    files.delete_attachment(commands.DeleteAttachment("acct-1", louise.id, attachment.id), uow)
    with pytest.raises(AttachmentNotFound):
        files.open_attachment("acct-1", louise.id, attachment.id, uow)
    assert blob_count(blobs) == 0


def test_a_failed_commit_leaves_no_blob(cipher, blobs):
    uow = UnitOfWork(FailingAttachmentCommits(), cipher, InMemoryIdentityClaims(), AttachmentFiles(blobs, cipher))
    louise = contact(uow)
    with pytest.raises(RuntimeError):
        attach(uow, louise.id)
    with pytest.raises(RuntimeError):
        set_picture(uow, louise.id, image(300, 300))
    assert blob_count(blobs) == 0


def test_a_new_picture_deletes_the_old_one_and_its_thumbnail(uow, blobs):
    louise = contact(uow)
    set_picture(uow, louise.id, image(300, 300))
    assert blob_count(blobs) == 2
    picture = set_picture(uow, louise.id, image(64, 32))
    assert blob_count(blobs) == 2 and picture.id == picture_id(louise.id)
    small = content(files.open_profile_picture("acct-1", louise.id, uow, thumbnail=True))
    assert Image.open(io.BytesIO(small)).size == (64, 32)
    files.delete_profile_picture(commands.DeleteProfilePicture("acct-1", louise.id), uow)
    assert blob_count(blobs) == 0
    with pytest.raises(NoProfilePicture):
        files.open_profile_picture("acct-1", louise.id, uow)


def test_erasing_the_contact_makes_its_files_unreadable(uow, cipher):
    louise = contact(uow)
    attachment = attach(uow, louise.id)
    cipher.shred(data_subject(louise.id))
    with pytest.raises(ContactNotFound):
        files.open_attachment("acct-1", louise.id, attachment.id, uow)
    with pytest.raises(SubjectErased):
        uow.files.open(louise.id, attachment.file.blob_id)


def test_moving_attachments_reseals_them_for_the_other_contact_and_is_safe_to_repeat(uow, cipher, blobs):
    source, target = contact(uow), contact(uow)
    attachment = attach(uow, source.id)
    set_picture(uow, source.id, image(300, 300))
    cmd = commands.MoveAttachments("acct-1", source.id, target.id, (attachment.id,))
    assert moving.move_attachments(cmd, uow) == [attachment.id, picture_id(target.id)]
    assert moving.move_attachments(cmd, uow) == []
    with pytest.raises(AttachmentNotFound):
        files.open_attachment("acct-1", source.id, attachment.id, uow)
    cipher.shred(data_subject(source.id))  # the copies do not depend on the old contact's key
    assert content(files.open_attachment("acct-1", target.id, attachment.id, uow)) == PDF
    assert content(files.open_profile_picture("acct-1", target.id, uow, thumbnail=True))
    assert blob_count(blobs) == 3  # the file, the picture and its thumbnail: the originals are gone


def test_a_target_with_a_picture_keeps_it_and_gets_the_other_as_a_file(uow):
    source, target = contact(uow), contact(uow)
    set_picture(uow, source.id, image(300, 300))
    own = set_picture(uow, target.id, image(64, 64))
    [moved] = moving.move_attachments(commands.MoveAttachments("acct-1", source.id, target.id, ()), uow)
    assert moved != own.id
    as_file = files.get_attachment("acct-1", target.id, moved, uow)
    assert as_file.kind == "file" and as_file.file.thumbnail_blob_id is None
    assert Image.open(io.BytesIO(content(files.open_profile_picture("acct-1", target.id, uow)))).size == (64, 64)
    with pytest.raises(NoProfilePicture):
        files.open_profile_picture("acct-1", source.id, uow)
