// Marks the page as scripted before the first paint (was an inline script; the CSP allows none).
document.documentElement.classList.replace("no-js", "js");
