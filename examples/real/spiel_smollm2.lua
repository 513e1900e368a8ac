-- %% [markdown]
-- # SpIEL vs QLoRA on SmolLM2-135M-Instruct, base kept 4-bit
--
-- The real-model companion of `examples/spiel.lua`: SmolLM2-135M-Instruct is loaded from its GGUF
-- with its projections left in Q4_1 blocks (`{quantized = true}`), and instruction-tuned on two tasks
-- built from the fetched assets: word-sense questions from WordNet ("What does 'bank' mean in: "…"?"
-- → the gloss) and translation of Bible verses ("Translate to Spanish: <KJV>" → Reina-Valera 1909),
-- with SpIEL-AG and with QLoRA at the same trainable count (rank 8 on the seven projections). We
-- report held-out loss on the responses, and exact match / token F1 of greedy answers, before and
-- after; step time, trainable-state bytes and a few generations. Needs assets/smollm2,
-- assets/wordnet and assets/bible (scripts/fetch-assets). `TESSERA_FAST=1` shortens it.

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
local GGUF = "assets/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
-- SPIEL_STEPS=N runs longer (selection pays off over more updates; see examples/spiel.lua)
local STEPS = fast and 4 or tonumber(os.getenv("SPIEL_STEPS") or "") or 80
local BATCH, MAXLEN, RANK = 4, 96, 8
-- held-out examples per task scored by generation, and the tokens each answer may take
local EVAL_N, EVAL_TOKENS = fast and 2 or 32, fast and 8 or 48
print("seed " .. seed .. ", " .. STEPS .. " updates of " .. BATCH .. " examples" .. (fast and " (fast mode)" or ""))

-- %% [markdown]
-- ## Data: word senses from WordNet, translations from the Bible
-- 2 000 shuffled synsets whose gloss quotes an example, and 1 000 verses of at most 100 characters
-- that both the King James Version and Reina-Valera 1909 have; 32 of each are held out. The
-- training examples alternate between the two tasks.

-- %%
local senses = instruct.wordnet("assets/wordnet", {count = fast and 200 or 2032, seed = seed})
local verses = instruct.bible("assets/bible", {direction = "en-es", count = fast and 100 or 1032, max_chars = 100, seed = seed})
local heldout, train, tasks = {}, {}, {senses = {}, translation = {}}
for _, task in ipairs{{"senses", senses}, {"translation", verses}} do
  for i = 1, 32 do heldout[#heldout + 1] = task[2][i]; tasks[task[1]][i] = task[2][i] end
end
for i = 33, math.max(#senses, #verses) do
  if senses[i] then train[#train + 1] = senses[i] end
  if verses[i] then train[#train + 1] = verses[i] end
end
print(#train .. " training and " .. #heldout .. " held-out examples; two of them:")
print(instruct.prompt(train[1]) .. train[1].output)
print(instruct.prompt(train[2]) .. train[2].output)

-- %%
local function load_model()
  local m, tok = models.load(GGUF, {quantized = true})
  return m, tok
end
local function response_loss(model, ids, labels)
  local T = ids:size(2)
  return nn.cross_entropy(model(ids):narrow(2, 1, T - 1), labels:narrow(2, 2, T - 1))
end
local function heldout_loss(model, tok)
  model:eval()
  local total, n = 0, 0
  for i = 1, #heldout, 8 do
    local chunk = {}
    for j = i, math.min(#heldout, i + 7) do chunk[#chunk + 1] = heldout[j] end
    local ids, labels, count = instruct.batch(tok, chunk, {max_length = MAXLEN})
    total = total + tensor.no_grad(function() return response_loss(model, ids, labels):item() end) * count
    n = n + count
  end
  model:train()
  return total / n
end
local function batches(tok)
  local out, k = {}, 0
  for s = 1, STEPS do
    local chunk = {}
    for b = 1, BATCH do k = k % #train + 1; chunk[b] = train[k] end
    local ids, labels = instruct.batch(tok, chunk, {max_length = MAXLEN})
    out[s] = {ids = ids, labels = labels}
  end
  return out
end
local function loss_fn(model, b) return response_loss(model, b.ids, b.labels) end
-- exact match and token F1 (SQuAD's normalisation) of greedy answers to the first EVAL_N held-out
-- examples of each task, generated until <|im_end|>
local function answer_scores(model, tok)
  local out = {}
  for _, task in ipairs{"senses", "translation"} do
    local subset = {}
    for i = 1, EVAL_N do subset[i] = tasks[task][i] end
    out[task] = instruct.evaluate(model, tok, subset, {max_new_tokens = EVAL_TOKENS})
  end
  return out
end
local function score_text(s)
  return string.format("senses EM %.2f F1 %.2f, translation EM %.2f F1 %.2f", s.senses.exact_match, s.senses.f1,
    s.translation.exact_match, s.translation.f1)
end

-- %%
local base, tok = load_model()
local im_end = tok:encode("<|im_end|>", {add_special_tokens = false})[1]
local before = heldout_loss(base, tok)
print(string.format("held-out response loss of the base model: %.3f", before))
local before_scores = answer_scores(base, tok)
print("base model, greedy answers: " .. score_text(before_scores))
local function answer(model, e)
  local ids = tok:encode(instruct.prompt(e), {add_special_tokens = false})
  local out = model:generate(ids, {max_new_tokens = 24, stop = im_end})
  return (tok:decode(out))
end
local shown = {tasks.senses[1], tasks.senses[2], tasks.translation[1]}
for _, e in ipairs(shown) do print("base: " .. e.instruction .. "\n  → " .. answer(base, e)) end
base = nil
collectgarbage()

-- %% [markdown]
-- ## SpIEL-AG and QLoRA at the same trainable count

-- %%
local results = {}
local function run(name, model, train_fn, count, bytes)
  local elapsed = 0
  local h = train_fn(function(info) elapsed = info.elapsed end)
  results[#results + 1] = {name = name, loss = heldout_loss(model, tok), ms = 1000 * elapsed / STEPS, count = count, bytes = bytes,
    first = h.loss[1], last = h.loss[#h.loss], scores = answer_scores(model, tok)}
  for _, e in ipairs(shown) do print(name .. ": " .. e.instruction .. "\n  → " .. answer(model, e)) end
end

local sm = load_model()
local d = spiel.wrap(sm, {match_lora_rank = RANK, seed = seed})
local data = batches(tok)
run("SpIEL-AG", sm, function(on_step)
  return spiel.train{model = sm, delta = d, data = data, loss = loss_fn, steps = STEPS, lr = 2e-3, log_every = 0, on_step = on_step}
end, d:k(), d:state_bytes())
for _, e in ipairs(d:selections()) do
  print(string.format("selection at update %d: replaced %d of %d planned, %d collisions", e.step, e.replaced, e.planned, e.collisions))
end
sm, d = nil, nil
collectgarbage()

local qm = load_model()
local a = lora.wrap(qm, {r = RANK, alpha = 16, dropout = 0.1, seed = seed})
run("QLoRA", qm, function(on_step)
  return nn.fit{model = qm, data = data, loss = loss_fn, optimizer = optim.AdamW(qm, {lr = 1e-3}), steps = STEPS, log_every = 0,
    on_step = on_step}
end, a:count(), a:state_bytes())

-- %% [markdown]
-- ## Results
-- Held-out response loss, then exact match and token F1 of greedy answers (EVAL_N per task; a
-- gloss or a verse rarely matches word for word, so F1 is the informative one), step time and
-- trainable-state bytes.

-- %%
print(string.format("base model: held-out response loss %.3f; %s", before, score_text(before_scores)))
print(string.format("%-10s %8s %9s %9s %9s %9s %8s %8s %9s %12s", "method", "loss", "sense EM", "sense F1", "trans EM", "trans F1",
  "ms/step", "params", "state B", "train loss"))
for _, r in ipairs(results) do
  local s = r.scores
  print(string.format("%-10s %8.3f %9.2f %9.2f %9.2f %9.2f %8.0f %8d %9d %5.2f→%5.2f", r.name, r.loss, s.senses.exact_match,
    s.senses.f1, s.translation.exact_match, s.translation.f1, r.ms, r.count, r.bytes, r.first, r.last))
end
