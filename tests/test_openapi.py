"""The OpenAPI document describes every endpoint, with summaries and problem+json errors."""


def test_openapi_document_is_complete(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "cityapp API"
    assert {"staffToken", "installationToken", "staffSession"} <= set(
        spec["components"]["securitySchemes"]
    )
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 15
    for path, method, op in operations:
        assert path.startswith("/api/"), path
        assert op.get("summary"), f"{method.upper()} {path} has no summary (view docstring)"
        assert any(code.startswith("2") for code in op["responses"]), (path, method)
    problem = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(problem) == ["application/problem+json"]
    assert problem["application/problem+json"]["schema"]["$ref"].endswith("/Problem")


def test_docs_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = client.get(f"/api/docs/static/{asset}")
        assert response.status_code == 200, asset
        assert len(response.data) > 1000
    assert client.get("/api/docs/static/index.html").status_code == 404


def test_root_leads_to_staff_pages(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/")
