-- %% [markdown]
-- # Composable sparse fine-tuning (LT-SFT)
--
-- Ansell et al. (ACL 2022) adapt a multilingual model to a *language* and to a *task* with two
-- separate sparse fine-tunings (SFTs), then add them: base + φ_language(target) + φ_task. Each SFT is
-- trained by the Lottery-Ticket recipe:
--
-- 1. fine-tune every weight for a while (phase 1);
-- 2. keep the K weights that moved most and rewind everything to where it started;
-- 3. train again with only those K weights free (phase 2). The SFT is their change, a `SparseDiff`.
--
-- This notebook does it all in a couple of minutes on a laptop, without downloads: a tiny
-- multilingual encoder is pretrained here on three synthetic "languages" that share one grammar
-- but have their own words and word orders. We train a part-of-speech-like tagger on language A
-- only and test it on language B, which the base model barely saw. With `TESSERA_FAST=1` every
-- training run is cut short (the numbers are then meaningless, the cells still run).

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
math.randomseed(seed)
print("seed " .. seed .. (fast and " (fast mode: short runs, numbers not meaningful)" or ""))
local function steps(n) return fast and math.max(4, n // 20) or n end

-- %% [markdown]
-- ## Three synthetic languages
-- One grammar for all: a sentence is `NP VERB NP [ADP NP]`, a noun phrase `DET [ADJ] NOUN`. Words
-- carry meaning: nouns fall in four classes, each verb prefers objects of one class and each
-- adjective describes nouns of one class, so a model that predicts hidden words learns who goes
-- with whom. The languages differ in their words (only determiners and adpositions, like
-- punctuation or numbers in real text, are shared) and in word order: B puts adjectives after
-- the noun, C puts the verb last. The tag of each word (DET, ADJ, NOUN, VERB, ADP) is the task.

-- %%
local TAGS = {"DET", "ADJ", "NOUN", "VERB", "ADP"}
local SIZE = {DET = 4, ADJ = 12, NOUN = 24, VERB = 16, ADP = 6}
local SHARED = {DET = true, ADP = true}
local PAD, MASK = 0, 1
local LANGS = {"A", "B", "C"}
local TAG_ID = {}
for i, t in ipairs(TAGS) do TAG_ID[t] = i - 1 end

-- word ids: word[lang][tag][concept]
local word, next_id = {}, 2
for _, lang in ipairs(LANGS) do word[lang] = {} end
for _, tag in ipairs(TAGS) do
  for _, lang in ipairs(LANGS) do
    if SHARED[tag] and lang ~= "A" then
      word[lang][tag] = word.A[tag]
    else
      word[lang][tag] = {}
      for c = 1, SIZE[tag] do word[lang][tag][c] = next_id; next_id = next_id + 1 end
    end
  end
end
local VOCAB = next_id
local MAXLEN = 12

local function pick(n) return math.random(n) end

-- one sentence as {ids}, {tags}
local function sentence(lang)
  local ids, tags = {}, {}
  local function emit(tag, c) ids[#ids + 1] = word[lang][tag][c]; tags[#tags + 1] = TAG_ID[tag] end
  local function np(class)
    local noun = (class - 1) * 6 + pick(6)
    local adj = math.random() < 0.6 and ((class - 1) + 4 * (pick(3) - 1) + 1) or nil
    emit("DET", pick(SIZE.DET))
    if adj and lang ~= "B" then emit("ADJ", adj) end
    emit("NOUN", noun)
    if adj and lang == "B" then emit("ADJ", adj) end
  end
  local verb = pick(SIZE.VERB)
  local object = (verb - 1) % 4 + 1
  if lang == "C" then
    np(pick(4)); np(object); emit("VERB", verb)
  else
    np(pick(4)); emit("VERB", verb); np(object)
  end
  if math.random() < 0.4 then emit("ADP", pick(SIZE.ADP)); np(pick(4)) end
  return ids, tags
end

-- `count` sentences of one language, padded into batches of `size`: ids, mask and tags tensors
local function batches(lang, count, size)
  local out = {}
  for b = 1, count // size do
    local ids, mask, tags = {}, {}, {}
    for i = 1, size do
      local s, t = sentence(lang)
      ids[i], mask[i], tags[i] = {}, {}, {}
      for j = 1, MAXLEN do
        ids[i][j] = s[j] or PAD
        mask[i][j] = s[j] and 1 or 0
        tags[i][j] = t[j] or -100
      end
    end
    out[b] = {ids = tensor.from(ids, {dtype = "i64"}), mask = tensor.from(mask, {dtype = "i64"}),
              tags = tensor.from(tags, {dtype = "i64"})}
  end
  return out
end

local text = {A = batches("A", 2048, 32), B = batches("B", 2048, 32), C = batches("C", 2048, 32)}
local train_A = batches("A", 512, 32)
local test = {A = batches("A", 512, 128), B = batches("B", 512, 128)}
print(string.format("vocabulary %d words; e.g. the same sentence shape in A, B and C:", VOCAB))
for _, lang in ipairs(LANGS) do
  local ids, tags = sentence(lang)
  local t = {}
  for i = 1, #ids do t[i] = ids[i] .. "/" .. TAGS[tags[i] + 1] end
  print("  " .. lang .. ": " .. table.concat(t, " "))
end

-- %% [markdown]
-- ## A tiny multilingual base model
-- A 2-layer BERT-style encoder with a masked-language-model head, pretrained on A and C and, at
-- one ninth of the batches, on B: B plays a low-resource language, barely seen by the
-- "multilingual" model (as many languages are by mBERT or XLM-R). Masked language modelling
-- hides 15% of the words and trains the model to predict them.

-- %%
local config = {vocab_size = VOCAB, hidden_size = 64, num_hidden_layers = 2, num_attention_heads = 4,
  intermediate_size = 128, max_position_embeddings = MAXLEN, hidden_dropout_prob = 0, attention_probs_dropout_prob = 0}

-- MLM batches of one or more languages, freshly masked at every step
local function mlm_data(langs)
  return function(step)
    local lang = langs[(step - 1) % #langs + 1]
    local b = text[lang][(step - 1) // #langs % #text[lang] + 1]
    local inputs, labels = nn.mask_tokens(b.ids, {mask_id = MASK, vocab_size = VOCAB, special_ids = {PAD, MASK}, attention_mask = b.mask})
    return {ids = inputs, labels = labels, mask = b.mask}
  end
end
local function mlm_loss(m, b) return nn.cross_entropy(m(b.ids, {attention_mask = b.mask}), b.labels) end

local mmt = nn.EncoderForMaskedLM(config)
local pretraining = nn.fit{model = mmt, optimizer = optim.AdamW(mmt, {lr = 2e-3, weight_decay = 0}), steps = steps(1500),
  data = mlm_data{"A", "C", "A", "C", "A", "C", "A", "C", "B"}, loss = mlm_loss, log_every = steps(1500) // 4}
local base = mmt:state_dict()
local base_encoder = {}
for name, t in pairs(base) do
  if name:find("^bert%.") then base_encoder[name] = t:clone() end
end

-- %% [markdown]
-- ## Language SFTs
-- A language SFT is LT-SFT on masked language modelling in one language. As in the paper, the
-- output layer (tied to the word embeddings) is untied and frozen, LayerNorms are frozen, and the
-- diff carries no head: it only changes the encoder, embeddings included. We train one for the
-- source language A and one for the target B, each changing 10% of the encoder's weights.

-- %%
local function fresh_mlm()
  local m = nn.EncoderForMaskedLM(config)
  m:load_state_dict(base)
  return m
end
local language_sft = {}
for _, lang in ipairs{"A", "B"} do
  language_sft[lang] = sft.train{model = fresh_mlm(), data = mlm_data{lang}, loss = mlm_loss, density = 0.10,
    full_steps = steps(400), sparse_steps = steps(400), lr = 2e-3, base = "tiny-mmt", log_every = steps(400) // 2}
  display(language_sft[lang])
end

-- %% [markdown]
-- ## The task SFT, on top of the source-language SFT
-- The tagger is the same encoder with a new classifier. Its task SFT is trained on language A
-- **with A's language SFT applied**, so it learns the task, not the language; the classifier
-- (the head) trains densely and travels with the diff. For comparison, the same training with a
-- *random* set of K weights (the control the paper's code declares but never implemented), and
-- ordinary full fine-tuning of every weight.

-- %%
local function fresh_tagger()
  local m = nn.EncoderForTokenClassification(config, #TAGS)
  m:load_state_dict(base_encoder, {strict = false})
  return m
end
local function tag_loss(m, b) return nn.cross_entropy(m(b.ids, {attention_mask = b.mask}), b.tags) end

local function task_sft(selection)
  local m = fresh_tagger()
  language_sft.A:apply(m)
  return sft.train{model = m, data = train_A, loss = tag_loss, density = 0.08, selection = selection,
    full_steps = steps(200), sparse_steps = steps(200), lr = 2e-3, base = "tiny-mmt", log_every = 0}
end
local function full_fine_tuning()
  local m = fresh_tagger()
  nn.fit{model = m, optimizer = optim.AdamW(m, {lr = 2e-3, weight_decay = 0}), steps = steps(400),
    data = train_A, loss = tag_loss, log_every = 0}
  return m
end

-- one run per seed: the classifier's initialisation and the random mask change with it
local SEEDS = fast and {1} or {1, 2, 3}
local runs = {}
for _, s in ipairs(SEEDS) do
  tensor.manual_seed(seed + s)
  runs[s] = {task = task_sft("lottery_ticket"), random = task_sft("random"), full = full_fine_tuning()}
  print(string.format("seed %d: task SFTs (lottery ticket, random) and full fine-tuning trained", seed + s))
end
local task = runs[SEEDS[1]].task
display(task)

-- %% [markdown]
-- ## Zero-shot transfer to language B
-- Accuracy of the tags on held-out sentences, for each seed. Composition is just addition:
-- `φ_B:apply(model)` then `task:apply(model)` (with its head); for language A the same task SFT is
-- combined with φ_A instead. The full fine-tuning row is the tagger trained on A, read on B as it is.

-- %%
local function accuracy(m, lang)
  m:eval()
  local correct, total = 0, 0
  tensor.no_grad(function()
    for _, b in ipairs(test[lang]) do
      local n = b.mask:sum():item()
      correct = correct + metrics.accuracy(m(b.ids, {attention_mask = b.mask}), b.tags) * n
      total = total + n
    end
  end)
  return correct / total
end

local function composed(diffs)
  local m = fresh_tagger()
  for _, d in ipairs(diffs) do d:apply(m) end
  return m
end

-- each row: how to build the model for language `lang` from one seed's run
local rows = {
  {"task SFT alone (base + φ_task)", function(r) return composed{r.task} end},
  {"task SFT + target-language SFT (base + φ_lang + φ_task)", function(r, lang) return composed{language_sft[lang], r.task} end},
  {"random-mask task SFT + φ_lang (same K)", function(r, lang) return composed{language_sft[lang], r.random} end},
  {"full fine-tuning on A", function(r) return r.full end},
}
local function summary(values)
  local sum, lo, hi = 0, math.huge, -math.huge
  for _, v in ipairs(values) do sum = sum + v; lo = math.min(lo, v); hi = math.max(hi, v) end
  return sum / #values, lo, hi
end
local means = {}
print(string.format("%-56s %22s %8s", "model (accuracy over " .. #SEEDS .. " seed(s))", "B (target): mean [min-max]", "A"))
for i, row in ipairs(rows) do
  local on_b, on_a = {}, {}
  for _, s in ipairs(SEEDS) do
    on_b[#on_b + 1] = accuracy(row[2](runs[s], "B"), "B")
    on_a[#on_a + 1] = accuracy(row[2](runs[s], "A"), "A")
  end
  local mean, lo, hi = summary(on_b)
  means[i] = mean
  print(string.format("%-56s %8.3f [%.3f-%.3f] %8.3f", row[1], mean, lo, hi, (summary(on_a))))
end

if plot then
  display(plot.bar({"task SFT", "+ φ_B", "random mask + φ_B", "full FT"}, means,
    {title = "zero-shot tagging accuracy on language B (mean over seeds)", ylabel = "accuracy"}))
end

-- %% [markdown]
-- ## Where do the SFTs overlap?
-- Language and task SFTs are trained separately, so they can pick the same weights and fight over
-- them (interference). `d:overlap(other)` counts the weights both change and the cosine of their
-- changes there; the per-layer table of `display(d)` shows where each SFT put its budget.

-- %%
for _, pair in ipairs{{"φ_A", language_sft.A, "φ_B", language_sft.B}, {"φ_A", language_sft.A, "φ_task", task},
                      {"φ_B", language_sft.B, "φ_task", task}} do
  local o = pair[2]:overlap(pair[4])
  print(string.format("%-6s vs %-7s shared %5d of %5d / %5d entries (%.1f%% of the smaller), cosine %.3f",
    pair[1], pair[3], o.shared, o.nnz, o.other_nnz, 100 * o.fraction, o.cosine))
end
local st = task:stats()
for _, l in ipairs(st.layers) do print(string.format("task SFT  %-28s nnz %6d  density %.3f", l.layer, l.nnz, l.density)) end

-- %% [markdown]
-- ## What to take away
-- - An SFT is a small, portable object: `d:save("task.safetensors")`, `sft.load(path)`, and
--   `d:apply(model)` / `d:revert(model)` switch it on and off in place.
-- - Adding the target-language SFT lets a tagger trained only on A read B much better (about
--   +11 points here, on every seed): B's language SFT taught the encoder B's words, and the task
--   SFT, trained on top of A's language SFT, carries only the task.
-- - In this toy, choosing the K weights that moved most and choosing them at random end up even,
--   and full fine-tuning on A transfers about as well but varies a lot between seeds: a tiny model
--   on a task it learns perfectly leaves little for the choice of weights to decide. The paper's
--   claims about selection and interference are about large models; `selection = "random"` is
--   there so you can test them on yours.
-- - `help("sft")` and `help("SparseDiff")` list everything; the paper's full-size recipe uses
--   mBERT or XLM-R with `models.load`, real text and Universal Dependencies treebanks.
