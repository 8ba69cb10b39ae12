"""The text of the demo's result PDFs."""

from __future__ import annotations

import random
from datetime import date, timedelta

from portal.seed.demo.facts import PROVIDERS
from portal.seed.demo.plan import VisitPlan


def _us(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def report_content(
    rng: random.Random, code: str, visit: VisitPlan, employer: str
) -> tuple[int, list[str]]:
    """Pages and lines of a result PDF: plausible, minimum-necessary, clearly demo content."""
    day = visit.visited_at.date()
    provider = f"Provider: {visit.provider}"
    claim = f"Claim number: {visit.claim_number or 'not yet assigned'}"
    employer_line = f"Employer: {employer}"
    if code == "INJURY_ACTIVITY_STATUS_REPORT":
        next_visit = (
            _us(visit.recheck_on.date()) if visit.recheck_on else "none, released from care"
        )
        return 1, [
            employer_line,
            claim,
            f"Diagnosis: {visit.diagnosis}",
            f"Work status: {visit.work_status}",
            "Treatment: evaluation, first aid, home exercise program",
            f"Next visit: {next_visit}",
            provider,
        ]
    if code == "FIRST_NOTICE_OF_INJURY_LETTER":
        return 1, [
            "To the employer:",
            "",
            f"Your employee was seen on {_us(day)} for an injury reported as work related.",
            claim,
            "Please forward this notice to your workers' compensation carrier.",
            "",
            "Sincerely,",
            visit.provider,
        ]
    if code == "PATIENT_REFERRAL_REPORT":
        specialty = rng.choice(("Orthopedics", "Physical therapy", "Ophthalmology", "Hand surgery"))
        return 1, [claim, f"Referred to: {specialty}", f"Reason: {visit.diagnosis}", provider]
    if code == "RECHECK_APPOINTMENT_REMINDER_LETTER":
        when = _us(visit.recheck_on.date()) if visit.recheck_on else "to be scheduled"
        return 1, [
            f"A recheck appointment is scheduled for {when} at {visit.center.name}.",
            "Missed appointments delay the return to full duty.",
            claim,
        ]
    if code == "EMPLOYEE_NO_SHOW_LETTER":
        when = _us(visit.recheck_on.date()) if visit.recheck_on else "the scheduled date"
        return 1, [
            f"Your employee did not attend the recheck appointment of {when}.",
            "Please ask the employee to call the center to reschedule.",
            claim,
        ]
    if code == "STATE_INJURY_REPORT":
        return 2, [
            f"State: {visit.center.state} (employer's first report of injury, provider section)",
            employer_line,
            claim,
            f"Date of injury: {_us(day)}",
            f"Nature of injury: {visit.diagnosis}",
            f"Disability status: {visit.work_status}",
            "Treatment provided: yes",
            provider,
            "Attachments: activity status report",
            "Certification: the information above is accurate.",
        ]
    if code == "CUSTODY_AND_CONTROL_FORM":
        return 1, [
            f"Specimen ID: {rng.randint(10_000_000, 99_999_999)}",
            "Reason for test: post-accident",
            f"Collection site: {visit.center.name}",
            "Temperature within range: yes",
            "Split specimen collected: yes",
            "The pass/fail result is reported through the drug screen results portal.",
        ]
    if code == "ALCOHOL_TESTING_FORM":
        return 1, [
            "Reason for test: post-accident",
            "Screening result: 0.000",
            "Confirmation test: not required",
            f"Breath alcohol technician: {rng.choice(PROVIDERS)}",
        ]
    if code == "TRANSCRIPTION":
        return 2, [
            f"Chief complaint: {visit.diagnosis.lower()} at work.",
            "History: the employee reports the injury occurred during regular duties.",
            "No prior injury to the same body part.",
            "Examination: tenderness at the injured site, no neurovascular deficit.",
            "Range of motion mildly reduced.",
            f"Assessment: {visit.diagnosis}.",
            f"Plan: {visit.work_status.lower()}; recheck as scheduled.",
            provider,
        ]
    if code == "TRANSCRIPTION_SUMMARY":
        return 1, [f"Assessment: {visit.diagnosis}", f"Work status: {visit.work_status}", provider]
    if code == "NON_INJURY_ACTIVITY_STATUS_REPORT":
        services = ", ".join(s.replace("_", " ").lower() for s in visit.services)
        return 1, [
            employer_line,
            f"Services performed: {services}",
            "Status: see individual results",
            provider,
        ]
    if code == "MEC_DOT_CARD":
        months = rng.choice((24, 24, 24, 12))
        return 1, [
            "Medical Examiner's Certificate (demo)",
            "Meets the standards in 49 CFR 391.41",
            f"Certified for {months} months; expires {_us(day + timedelta(days=months * 30))}",
            f"Medical examiner: {visit.provider}",
            f"National Registry number: {rng.randint(1_000_000_000, 9_999_999_999)}",
        ]
    if code == "MER_LONG_FORM":
        return 3, [
            "Section 1: driver health history reviewed with the driver.",
            "Section 2: testing",
            f"Vision: right 20/{rng.choice((20, 25, 30))}, left 20/{rng.choice((20, 25, 30))}",
            "Hearing: forced whisper test passed at 5 feet, both ears",
            f"Blood pressure: {rng.randint(112, 138)}/{rng.randint(70, 88)}",
            f"Pulse: {rng.randint(60, 88)}",
            "Urinalysis: protein negative, blood negative, sugar negative",
            "Section 3: physical examination",
            "General appearance, eyes, ears, mouth and throat: normal",
            "Heart, lungs and chest, abdomen: normal",
            "Spine and musculoskeletal, extremities: normal",
            "Neurological: normal",
            "Section 4: determination",
            "Meets standards: certificate issued",
            provider,
        ]
    if code == "PRE_PLACEMENT_PHYSICAL_RESULTS":
        return 1, [
            employer_line,
            "Result: meets the physical requirements of the position",
            f"Blood pressure: {rng.randint(110, 136)}/{rng.randint(70, 86)}",
            "Vision and hearing: within normal limits",
            provider,
        ]
    if code == "AUDIOGRAM_RESULTS":

        def ear() -> str:
            return " ".join(f"{rng.choice((5, 10, 15, 20, 25, 30)):>4}" for _ in range(7))

        return 1, [
            "Frequency (Hz):    500 1000 2000 3000 4000 6000 8000",
            f"Right ear (dB HL): {ear()}",
            f"Left ear (dB HL):  {ear()}",
            f"Standard threshold shift: {rng.choice(('none', 'none', 'none', 'left ear'))}",
            "Test type: annual",
            provider,
        ]
    if code == "HUMAN_PERFORMANCE_EVALUATION_RESULTS":
        return 1, [
            f"Lift floor to waist: {rng.choice((40, 50, 60))} lb",
            "Carry 50 feet: 40 lb",
            "Push/pull: meets job demands",
            "Result: meets the physical demands of the job",
            provider,
        ]
    if code == "RESPIRATOR_CLEARANCE":
        return 1, [
            "Respirator type: half-face air-purifying",
            "Clearance: cleared without restrictions",
            f"Next evaluation due: {_us(day + timedelta(days=365))}",
            provider,
        ]
    if code == "FIT_TEST_RESULTS":
        return 1, [
            "Method: quantitative",
            "Respirator: half facepiece, size medium",
            f"Overall fit factor: {rng.randint(300, 2500)} (pass at 100 or more)",
            "Result: pass",
        ]
    if code == "MEDICAL_SURVEILLANCE_OPINION_LETTER":
        program = rng.choice(("noise", "lead", "silica", "hexavalent chromium"))
        return 1, [
            f"Program: {program} exposure medical surveillance",
            "Opinion: no detected medical condition placing the employee at increased risk.",
            "Recommended follow-up: annual",
            provider,
        ]
    if code == "TEST_AND_LAB_RESULTS":
        lines = [f"Collected: {_us(day)}"]
        if "DRUG_SCREEN" in visit.services:
            lines.append("Drug screen: see the drug screen results portal for the pass/fail result")
        if "BREATH_ALCOHOL_TEST" in visit.services:
            lines.append("Breath alcohol: 0.000 (negative)")
        if "LAB_TESTS" in visit.services:
            lines.append(f"Blood lead: {rng.randint(1, 9)} ug/dL (reference below 10)")
            lines.append("TB test (IGRA): negative")
        return 1, lines
    if code == "VACCINE_ADMINISTRATION_RECORD":
        vaccine = rng.choice(
            ("Hepatitis B, dose 1 of 3", "Tdap", "Influenza", "Hepatitis A, dose 1 of 2")
        )
        return 1, [
            f"Vaccine: {vaccine}",
            f"Lot number: {rng.choice('ABCDEFGH')}{rng.randint(10000, 99999)}",
            "Site: left deltoid",
            provider,
        ]
    if code == "OTHER_PHYSICALS_AND_ANCILLARY_RESULTS":
        return 1, ["Service: vision screening", "Result: pass", provider]
    if code == "CUSTOMER_SPECIFIC_FORM":
        return 1, [f"{employer} fitness-for-duty form", "Cleared for: full duty", provider]
    return 1, [provider]
