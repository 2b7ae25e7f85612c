// Copy buttons: <button data-copy="element-id"> copies that element's text;
// <button data-copy-value="text"> copies the text itself (the tables' truncated cells).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy], button[data-copy-value]");
  if (!button) return;
  const source = button.dataset.copy ? document.getElementById(button.dataset.copy) : null;
  if (button.dataset.copy && !source) return;
  const text = source ? source.textContent.trim() : button.dataset.copyValue;
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    const holder = source || Object.assign(document.createElement("span"), { textContent: text });
    if (!source) document.body.appendChild(holder);
    const range = document.createRange();
    range.selectNodeContents(holder);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
    if (!source) holder.remove();
  }
  const label = button.innerHTML;
  button.textContent = source ? "Copied" : "✓";
  setTimeout(() => { button.innerHTML = label; }, 1500);
});
