// The two pages an email starts: set a password from an invitation (/accept-invitation) and
// reset a password (/reset-password). Plain JavaScript served by the API itself under the same
// Content-Security-Policy as GraphiQL: no inline script, no third party, no form submission
// (the form is sent with fetch to /graphql).
//
// The token arrives in the URL fragment (#token=...), which the browser never sends to a
// server; it is read once and removed from the address bar.
'use strict';

const page = document.body.dataset.page;
const endpoint = document.body.dataset.endpoint || '/graphql';
const form = document.getElementById('form');
const message = document.getElementById('message');
const submit = document.getElementById('submit');

const token = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token');
if (token) {
  history.replaceState(null, '', window.location.pathname);
}

function show(text, kind) {
  message.textContent = text;
  message.dataset.kind = kind;
}

async function graphql(query, variables, accessToken) {
  const headers = { 'Content-Type': 'application/json' };
  if (accessToken) {
    headers.Authorization = `Bearer ${accessToken}`;
  }
  const response = await fetch(endpoint, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    throw new Error(body.errors.map((error) => error.message).join(' '));
  }
  return body.data;
}

function refused(payload) {
  if (payload && payload.userErrors && payload.userErrors.length) {
    return payload.userErrors.map((error) => error.message).join(' ');
  }
  return null;
}

async function signedIn(accessToken) {
  const data = await graphql('{ viewer { email } }', {}, accessToken);
  form.hidden = true;
  show(`Your password is set. You are signed in as ${data.viewer.email}.`, 'done');
}

async function acceptInvitation(password) {
  const data = await graphql(
    'mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { accessToken userErrors { field code message } } }',
    { input: { token, password } },
  );
  const problem = refused(data.acceptInvitation);
  if (problem) {
    show(problem, 'error');
    return;
  }
  await signedIn(data.acceptInvitation.accessToken);
}

async function resetPassword(email, password) {
  const reset = await graphql(
    'mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { userErrors { field code message } } }',
    { input: { token, password } },
  );
  const problem = refused(reset.resetPassword);
  if (problem) {
    show(problem, 'error');
    return;
  }
  const login = await graphql(
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken userErrors { field code message } } }',
    { input: { email, password } },
  );
  const loginProblem = refused(login.login);
  if (loginProblem) {
    form.hidden = true;
    show(`Your password is set. Sign in again: ${loginProblem}`, 'done');
    return;
  }
  await signedIn(login.login.accessToken);
}

async function requestReset(email) {
  const data = await graphql(
    'mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { userErrors { field code message } } }',
    { input: { email } },
  );
  const problem = refused(data.requestPasswordReset);
  if (problem) {
    show(problem, 'error');
    return;
  }
  form.hidden = true;
  show('If this email has a login, a link to reset its password is on its way.', 'done');
}

function setUp() {
  const passwordRow = document.getElementById('password-row');
  const confirmRow = document.getElementById('confirm-row');
  const emailRow = document.getElementById('email-row');
  if (page === 'reset-password' && !token) {
    // No link token: ask for the email to send a reset link to.
    passwordRow.hidden = true;
    confirmRow.hidden = true;
    document.getElementById('password').required = false;
    document.getElementById('confirm').required = false;
    submit.textContent = 'Email me a reset link';
  } else if (page === 'accept-invitation') {
    emailRow.hidden = true;
    document.getElementById('email').required = false;
    if (!token) {
      form.hidden = true;
      show('Open this page from the link in your invitation email.', 'error');
    }
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = document.getElementById('email').value.trim();
  const password = document.getElementById('password').value;
  const confirm = document.getElementById('confirm').value;
  const choosing = !(page === 'reset-password' && !token);
  if (choosing && password !== confirm) {
    show('The two passwords differ.', 'error');
    return;
  }
  submit.disabled = true;
  show('Working\u2026', 'busy');
  try {
    if (page === 'accept-invitation') {
      await acceptInvitation(password);
    } else if (token) {
      await resetPassword(email, password);
    } else {
      await requestReset(email);
    }
  } catch (error) {
    show(`Something went wrong: ${error.message}`, 'error');
  } finally {
    submit.disabled = false;
  }
});

setUp();
