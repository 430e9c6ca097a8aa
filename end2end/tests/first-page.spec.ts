import { expect, test, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";

/** Holds every WASM request until the returned function is called (routing also turns
 * the browser's cache off, so each page load asks again). */
async function holdWasm(page: Page): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

async function notHydrated(page: Page) {
  expect(await page.evaluate(() => document.documentElement.dataset.hydrated ?? "no")).toBe("no");
}

test("before the page is interactive, status links, search with Enter and paging already work", async ({ page }) => {
  await act.signIn(page);
  const release = await holdWasm(page);
  await page.goto("/users");
  await expect(find.bodyRows(page).first()).toBeVisible();
  await notHydrated(page);

  await find.statusLink(page, "Banned").click();
  await expect(page).toHaveURL(/[?&]status=banned\b/);
  await expect(find.statusLink(page, "Banned")).toHaveAttribute("aria-current", "true");
  await expect(find.bodyRows(page).first()).toBeVisible();
  const name = await (await find.cell(page, find.bodyRows(page).first(), "Name")).innerText();
  const lastName = name.split(" ").at(-1)!;

  await find.search(page).fill(lastName);
  await find.search(page).press("Enter");
  await expect(page).toHaveURL(new RegExp(`[?&]q=${lastName}\\b`));
  await check.urlHas(page, { q: lastName, status: "banned" });
  const rows = await act.rowTexts(page);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(row.toLowerCase()).toContain(lastName.toLowerCase());

  await page.goto("/users");
  await page.getByRole("navigation", { name: "Pagination" }).getByRole("link", { name: "Next" }).click();
  await check.urlHas(page, { page: "2" });
  await expect(page.getByText(/^Page 2 of/)).toBeVisible();
  await notHydrated(page);
  release();
  await check.hydrated(page);
});

test("what is typed before hydration is kept, keeps focus, and is searched for", async ({ page }) => {
  await act.signIn(page);
  const name = await (await find.cell(page, find.bodyRows(page).nth(2), "Name")).innerText();
  const lastName = name.split(" ").at(-1)!;
  const release = await holdWasm(page);
  await page.goto("/users");
  await expect(find.search(page)).toBeVisible();
  await notHydrated(page);
  await find.search(page).pressSequentially(lastName, { delay: 20 });
  release();
  await check.hydrated(page);
  await expect(find.search(page)).toHaveValue(lastName);
  await expect(find.search(page)).toBeFocused();
  await check.urlHas(page, { q: lastName });
  await check.settled(page);
  for (const row of await act.rowTexts(page)) expect(row.toLowerCase()).toContain(lastName.toLowerCase());
});

test("the site's files are content-named, sent compressed and cached for a year", async ({ page }) => {
  const responses: { url: string; encoding?: string; cache?: string }[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/pkg/")) {
      responses.push({ url: r.url(), encoding: r.headers()["content-encoding"], cache: r.headers()["cache-control"] });
    }
  });
  await act.open(page, "/login");
  for (const kind of ["js", "wasm", "css"]) {
    const file = responses.find((r) => new RegExp(`/pkg/roster\\.[0-9a-f]{16}\\.${kind}$`).test(r.url));
    expect(file, `a content-named .${kind} among ${JSON.stringify(responses)}`).toBeTruthy();
    expect(file!.encoding).toBe("br");
    expect(file!.cache).toBe("public, max-age=31536000, immutable");
  }
});
