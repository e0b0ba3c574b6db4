"""An officer views the uploaded materials of their office's task before deciding
(GET /api/applications/{id}/materials/{file_id}): the files the application names, as
submitted and as corrected, and nothing else."""

from tests.support.polling import wait_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FILES = "/api/applications/{}/materials/{}"


def test_the_officer_reads_the_submitted_and_the_corrected_files_only(client, mesh):
    application_id = client.apply("birth", name="Correct health")

    def asked():
        view = client.application(application_id).json()
        return view if view["status"] == "awaiting_correction" else None

    view = asked() or wait_for(asked, "the health office to ask for a correction")
    task = next(t for t in view["tasks"] if t["state"] == "correction_required")
    officer = mesh.as_("officer", office=task["office"])
    submitted = view["materials"][0]["file_id"]
    assert mesh.get(FILES.format(application_id, submitted), headers=officer).status_code == 200

    owner = client._owners[application_id]
    scan = client.upload(data=PNG, filename="出生记录.png", content_type="image/png", token=owner)
    # before the correction names it, the new upload is nobody's business but its uploader's
    assert mesh.get(FILES.format(application_id, scan), headers=officer).status_code == 404
    supplied = [{"code": code, "file_id": scan} for code in task["requested_materials"]]
    response = client.post_as_owner(application_id, "corrections", {"materials": supplied})
    assert response.status_code == 202, response.text

    corrected = mesh.get(FILES.format(application_id, scan), headers=officer)
    assert corrected.status_code == 200 and corrected.content == PNG
    assert corrected.headers["Content-Type"] == "image/png"
    assert corrected.headers["Content-Disposition"].startswith("attachment;")
    # the applicant reads their own; an officer of another office and a clerk who did not
    # submit it do not learn the file exists
    assert mesh.get(FILES.format(application_id, scan), headers=mesh.as_()).status_code == 200
    for stranger in (
        mesh.as_("officer", office="taxation.430102"),
        mesh.as_("clerk", region="430102"),
    ):
        assert mesh.get(FILES.format(application_id, scan), headers=stranger).status_code == 404
