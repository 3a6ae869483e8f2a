"""store.fts.fts_text: how text is segmented for the full-text index (and for queries)."""

from __future__ import annotations

import sqlite3

from tui_desk.store.fts import MAX_INDEXED_CHARS, fts_text


def test_ascii_text_is_indexed_as_it_is():
    assert fts_text("Refund for order #77753\nthanks") == "Refund for order #77753\nthanks"


def test_each_cjk_character_becomes_its_own_token():
    assert fts_text("退款") == " 退  款 "
    assert fts_text("我要退款, please") == " 我  要  退  款 , please"
    assert fts_text("返金をお願いします") == " 返  金  を  お  願  い  し  ま  す "
    assert fts_text("환불 요청") == " 환  불   요  청 "


def test_other_non_ascii_text_is_left_alone():
    assert fts_text("café возврат") == "café возврат"
    assert fts_text("ｱｲ") == "ｱｲ"  # half-width katakana is outside the ranges (as before)


def test_text_is_capped_before_it_is_segmented():
    assert fts_text("x" * (MAX_INDEXED_CHARS + 5)) == "x" * MAX_INDEXED_CHARS
    assert fts_text("x" * (MAX_INDEXED_CHARS - 1) + "退款") == "x" * (MAX_INDEXED_CHARS - 1) + " 退 "


def test_a_cjk_word_inside_a_sentence_is_found_as_a_phrase():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t(rowid, body) VALUES (1, ?), (2, ?)",
               (fts_text("我想申请退款谢谢"), fts_text("我想申请退货")))
    phrase = '"' + fts_text("退款") + '"'
    assert [r[0] for r in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (phrase,))] == [1]
