"""The exam admin's API: blueprints (list, check, draft, new versions), simulation, and the sittings' papers."""

from __future__ import annotations

import pytest

from server.audit import AuditEntry
from server.exam.models import PaperBlueprint, PreparedPaper
from tests.helpers import stored
from tests.integration.test_papers_ahead import Staff


@pytest.fixture
def admin(app):
    return Staff(app, "kaowu")


@pytest.mark.parametrize("username", ["proctor1", "chief", "tiku"])
def test_only_the_exam_admin_may_use_it(app, username):
    other = Staff(app, username)
    for response in (
        other.get("/api/admin/blueprints"),
        other.get("/api/admin/sittings"),
        other.post("/api/admin/sittings/1/prepare", {}),
        other.post("/api/admin/sittings/1/blueprint", {"blueprint_id": 1}),
        other.post("/api/admin/blueprints", {}),
        other.post("/api/admin/blueprints/check", {}),
        other.post("/api/admin/blueprints/suggest", {}),
        other.post("/api/admin/blueprints/1/simulate", {}),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["message"] == "只有考务管理员可以管理组卷蓝图和试卷。"
    assert app.test_client().get("/api/admin/blueprints").status_code == 403  # nobody logged in


def test_blueprints_are_listed_with_the_banks_they_can_draw_from(admin):
    reply = admin.get("/api/admin/blueprints").get_json()
    [blueprint] = reply["blueprints"]
    assert blueprint["version"] == 1 and blueprint["size"] == 60 and blueprint["created_by"] == "demo"
    assert sum(blueprint["difficulty"].values()) == 60
    assert blueprint["summary"][0].startswith("职业 6-28-01-14  4级  第1版  共 60 题")
    [bank] = reply["banks"]
    assert bank["types"] == {"single": 60, "multiple": 30, "true_false": 40}


def test_an_edited_blueprint_is_checked_then_kept_as_the_next_version(admin):
    current = admin.get("/api/admin/blueprints").get_json()["blueprints"][0]["data"]
    edited = {
        **current,
        "sections": [dict(s) for s in current["sections"]],
        "cells": [dict(c) for c in current["cells"]],
    }
    edited["cells"][0]["count"] += 1
    refused = admin.post("/api/admin/blueprints/check", edited)
    assert refused.status_code == 400
    assert "单选题：部分要求 30 题，细目合计 31 题" in refused.get_json()["error"]["message"]
    first = edited["cells"][0]  # every single-choice item from one cell: more than the bank holds there
    edited["cells"] = [{**first, "count": 30}] + [c for c in edited["cells"] if c["type"] != first["type"]]
    infeasible = admin.post("/api/admin/blueprints/check", edited).get_json()
    assert infeasible["error"]["code"] == "infeasible_blueprint" and "题库可用" in infeasible["error"]["message"]
    checked = admin.post("/api/admin/blueprints/check", current).get_json()
    assert checked["ok"] and any("每份试卷都含这些题" in w for w in checked["warnings"])
    saved = admin.post("/api/admin/blueprints", current).get_json()
    assert saved["ok"] and saved["blueprint"]["version"] == 2
    assert [b.version for b in stored(admin.app, PaperBlueprint)] == [1, 2]


def test_a_draft_is_suggested_from_the_bank(admin):
    reply = admin.post(
        "/api/admin/blueprints/suggest",
        {
            "occupation_code": "6-28-01-14",
            "level": 4,
            "sections": [
                {"type": "single", "count": 50, "points": 1.5},
                {"type": "true_false", "count": 25, "points": 1},
            ],
        },
    ).get_json()
    assert reply["ok"]
    assert sum(c["count"] for c in reply["blueprint"]["cells"] if c["type"] == "single") == 50
    too_many = admin.post(
        "/api/admin/blueprints/suggest",
        {"occupation_code": "6-28-01-14", "level": 4, "sections": [{"type": "single", "count": 100, "points": 1}]},
    ).get_json()
    assert too_many["error"]["message"] == "单选题：需要 100 题，题库可用 60 题"
    for sections in (
        [{}],
        [{"type": "single", "count": "x", "points": 1}],
        [{"type": "single", "count": 5, "points": -1}],
    ):
        malformed = admin.post(
            "/api/admin/blueprints/suggest", {"occupation_code": "x", "level": 4, "sections": sections}
        )
        assert malformed.status_code == 400
        assert malformed.get_json()["error"]["message"] == "各部分须写明题型、题数（正整数）和每题分值（正数）。"


def test_the_simulation_report(admin, app):
    blueprint_id = admin.get("/api/admin/blueprints").get_json()["blueprints"][0]["id"]
    reply = admin.post(f"/api/admin/blueprints/{blueprint_id}/simulate", {"papers": 90, "tolerance": 0.2}).get_json()
    report = reply["report"]
    assert report["papers"] == 90 and report["pool_size"] == 130
    assert 0 < report["coverage"] <= 1 and 0 < report["exposure_mean"] <= report["exposure_max"] <= 1
    assert report["most_exposed"][0]["code"].startswith("WS4-")  # the bank's item codes, not row ids
    assert 0 <= report["overlap_mean"] <= report["overlap_worst"] + 1e-9 <= 1 + 1e-9
    assert report["parallel"] == (report["difficulty_spread"] <= 0.2)
    assert stored(app, AuditEntry, action="assemble.simulate")[0].detail["papers"] == 90
    bad = admin.post(f"/api/admin/blueprints/{blueprint_id}/simulate", {"papers": 0})
    assert bad.status_code == 400 and bad.get_json()["error"]["message"] == "papers 应为 1 到 10000 之间的整数。"
    assert admin.post("/api/admin/blueprints/999/simulate", {}).status_code == 404


def test_a_sitting_changes_blueprint_and_is_assembled_again_before_papers_go_out(admin, app):
    [sitting] = admin.get("/api/admin/sittings").get_json()["sittings"]
    assert sitting["blueprint"]["version"] == 1 and sitting["report"]["papers"] == 30
    assert sitting["backups"] == {"ready": 3, "used": 0, "void": 0}
    current = admin.get("/api/admin/blueprints").get_json()["blueprints"][0]["data"]
    newer = admin.post("/api/admin/blueprints", current).get_json()["blueprint"]
    moved = admin.post("/api/admin/sittings/1/blueprint", {"blueprint_id": newer["id"]}).get_json()
    assert moved["sitting"]["blueprint"]["version"] == 2
    assert moved["sitting"]["report"] is None and stored(app, PreparedPaper) == []  # drawn for the old version
    again = admin.post("/api/admin/sittings/1/prepare", {"backups": 6}).get_json()["sitting"]
    assert again["report"]["blueprint_version"] == 2 and again["backups"]["ready"] == 6
    assert admin.post("/api/admin/sittings/1/prepare", {"backups": -1}).status_code == 400
    assert admin.post("/api/admin/sittings/9/prepare", {}).status_code == 404
    back = admin.post("/api/admin/sittings/1/blueprint", {"blueprint_id": sitting["blueprint"]["id"]}).get_json()
    assert back["sitting"]["blueprint"]["version"] == 1  # an older version can be chosen again


def test_the_blueprint_stays_once_papers_are_handed_out(admin, app, candidate, proctor):
    candidate.login()
    assert proctor.confirm(candidate.ticket)["ok"]
    current = admin.get("/api/admin/blueprints").get_json()["blueprints"][0]["data"]
    newer = admin.post("/api/admin/blueprints", current).get_json()["blueprint"]
    refused = admin.post("/api/admin/sittings/1/blueprint", {"blueprint_id": newer["id"]})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "papers_handed_out"
    assert admin.get("/api/admin/sittings").get_json()["sittings"][0]["blueprint"]["version"] == 1
