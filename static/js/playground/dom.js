// Building the Playground's elements.

/** An element: `attrs` "text" sets its text, "className" its class, others are attributes (true: present, null,
 * undefined or false: absent); `children` are appended (null ones skipped). */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value === null || value === undefined || value === false) return;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  });
  (children || []).forEach((child) => {
    if (child) node.appendChild(child);
  });
  return node;
}
