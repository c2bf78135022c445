// What a frontend does with the generated types: file a tip anonymously, look its receipt up,
// and page through tips as an officer. tests/clients type-checks this against the types
// generated from intake's OpenAPI document; a renamed field or path fails the check.
import createClient from "openapi-fetch";
import type { paths } from "../generated/intake";

const intake = createClient<paths>({ baseUrl: "http://127.0.0.1:8001" });

export async function fileTip(ward: string): Promise<string> {
  const { data, error } = await intake.POST("/v1/tips", {
    body: {
      channel: "web",
      description: "Người quen hứa việc làm bên kia biên giới cho một thiếu nữ.",
      incident_ward_code: ward,
      exploitation_types: ["forced_labour"],
    },
    // required without a token: a random UUID, new for this tip and reused for its retries
    headers: { "Accept-Language": "vi", "Idempotency-Key": crypto.randomUUID() },
  });
  if (error) throw new Error(`${error.title}: ${error.detail}`);
  return data.receipt_code;
}

export async function lookUp(receiptCode: string): Promise<string> {
  const { data, error } = await intake.POST("/v1/receipts/lookup", {
    body: { receipt_code: receiptCode },
  });
  if (error) throw new Error(error.detail);
  return data.status;
}

function tipsPage(token: string, cursor?: string) {
  return intake.GET("/v1/tips", {
    params: { query: { limit: 50, cursor } },
    headers: { Authorization: `Bearer ${token}` },
  });
}

export async function allTipIds(token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const { data, error } = await tipsPage(token, cursor);
    if (error) throw new Error(error.detail);
    ids.push(...data.items.map((tip) => tip.id));
    cursor = data.next_cursor ?? undefined;
  } while (cursor);
  return ids;
}
