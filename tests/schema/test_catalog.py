"""Medical centers, services, report types, and the public sign-on links."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient, assert_unauthenticated

CENTERS = """
query ($state: String, $search: String, $telemedicine: Boolean) {
  medicalCenters(state: $state, search: $search, telemedicine: $telemedicine) {
    totalCount nodes { code name state telemedicineCapable address { city } }
  }
}
"""


async def test_centers_filter_by_state(admin_client: GraphQLClient) -> None:
    centers = (await admin_client(CENTERS, {"state": "tx"})).ok()["medicalCenters"]
    assert centers["totalCount"] == 3
    assert {c["state"] for c in centers["nodes"]} == {"TX"}


async def test_centers_search_by_name_or_city_any_case(admin_client: GraphQLClient) -> None:
    centers = (await admin_client(CENTERS, {"search": "hOUSton"})).ok()["medicalCenters"]
    assert [c["name"] for c in centers["nodes"]] == ["Houston Occupational Health"]


async def test_centers_filter_by_telemedicine(admin_client: GraphQLClient) -> None:
    centers = (await admin_client(CENTERS, {"telemedicine": True})).ok()["medicalCenters"]
    assert centers["totalCount"] == 2
    assert all(c["telemedicineCapable"] for c in centers["nodes"])


async def test_search_treats_wildcards_literally(admin_client: GraphQLClient) -> None:
    centers = (await admin_client(CENTERS, {"search": "%"})).ok()["medicalCenters"]
    assert centers["totalCount"] == 0


async def test_an_unknown_state_is_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client(CENTERS, {"state": "Texas"})
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == "state"


async def test_catalog_needs_a_signed_in_caller(anonymous_client: GraphQLClient) -> None:
    assert_unauthenticated(await anonymous_client("{ medicalCenters { totalCount } }"))
    assert_unauthenticated(await anonymous_client("{ reportTypes { code } }"))


async def test_services_and_report_types_are_listed(basic_client: GraphQLClient) -> None:
    data = (
        await basic_client(
            "{ services(first: 100) { totalCount nodes { code category } } "
            "reportTypes { code name category } }"
        )
    ).ok()
    assert data["services"]["totalCount"] >= 10
    assert {s["category"] for s in data["services"]["nodes"]} == {"INJURY", "NON_INJURY"}
    names = {r["name"] for r in data["reportTypes"]}
    assert len(data["reportTypes"]) >= 24
    assert any("DOT" in name for name in names)
    # The seeds list it among the injury reports; the catalog has it
    assert {
        "code": "EMPLOYER_PATIENT_VISIT_REPORT",
        "name": "Employer Patient Visit Report",
        "category": "INJURY",
    } in data["reportTypes"]


async def test_report_types_filter_by_category(basic_client: GraphQLClient) -> None:
    types = (await basic_client("{ reportTypes(category: INJURY) { category } }")).ok()[
        "reportTypes"
    ]
    assert types
    assert {t["category"] for t in types} == {"INJURY"}


async def test_sign_on_links_need_no_login(anonymous_client: GraphQLClient) -> None:
    links = (await anonymous_client("{ signOnLinks { label url } }")).ok()["signOnLinks"]
    assert links
    assert all(link["url"].startswith("https://") for link in links)
