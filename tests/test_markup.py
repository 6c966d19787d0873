from bot import markup
from bot.markup import Bold, BulletList, Italic, Link, Paragraph, Text


def test_inline_elements_parse() -> None:
    blocks = markup.parse(
        "Adopted in **2009** by the _General Assembly_, see [IFRC](https://ifrc.org)."
    )
    assert blocks == [
        Paragraph(
            (
                Text("Adopted in "),
                Bold((Text("2009"),)),
                Text(" by the "),
                Italic((Text("General Assembly"),)),
                Text(", see "),
                Link((Text("IFRC"),), "https://ifrc.org"),
                Text("."),
            )
        )
    ]


def test_unclosed_and_intraword_markers_stay_literal() -> None:
    assert markup.to_plain("2*3 = 6, snake_case_name, **open") == "2*3 = 6, snake_case_name, **open"


def test_bullets_and_paragraphs() -> None:
    blocks = markup.parse("Four subthemes:\n- access\n- borders\n  and procedures\n\nEnd.")
    assert isinstance(blocks[1], BulletList)
    assert markup.plain_text(blocks[1].items[1]) == "borders and procedures"
    assert markup.to_plain("Four:\n- a\n- b\n\nEnd.") == "Four:\n\n• a\n• b\n\nEnd."


def test_links_need_a_web_address() -> None:
    assert markup.parse("[click](javascript:alert(1))") == [
        Paragraph((Text("[click](javascript:alert(1))"),))
    ]


def test_escape_round_trips_any_text() -> None:
    nasty = "- **not bold** _not italic_ [x](https://evil.example) \\ back\\slash\n- second"
    assert markup.to_plain(markup.escape(nasty)) == nasty


def test_render_chunks_split_between_blocks_under_the_limit() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(20))
    chunks = markup.render_chunks(text, markup.PlainRenderer(), 500)
    assert all(len(c) <= 500 for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(markup.to_plain(text).split())


def test_render_chunks_split_an_oversized_block_at_spaces() -> None:
    text = "word " * 3000
    chunks = markup.render_chunks(text, markup.PlainRenderer(), 1000)
    assert len(chunks) > 1 and all(len(c) <= 1000 for c in chunks)
    assert sum(c.count("word") for c in chunks) == 3000


def test_escaped_text_inside_bold_stays_inside() -> None:
    question = "Which topic first? **really*"
    blocks = markup.parse(f"**{markup.escape(question)}**")
    assert blocks == [markup.Paragraph((Bold((Text(question),)),))]
    assert markup.to_plain(f"_{markup.escape('snake_case_')}_") == "snake_case_"
