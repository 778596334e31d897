"""The XML editor's core on the libvirt test driver: read, local checks, define with VALIDATE."""

from __future__ import annotations

import libvirt
import pytest

from virttui.core.domain import xml_edit as XE
from virttui.core.domain.xml_edit import MASK, XmlEditError


@pytest.fixture
def conn() -> libvirt.virConnect:
    c = libvirt.open("test:///default")
    yield c
    c.close()


def test_parse_error_has_line_and_column(conn: libvirt.virConnect) -> None:
    source = XE.read_source(conn, "domain", conn.lookupByName("test").UUIDString())
    broken = source.text.replace("<vcpu", "<vcpu <", 1)
    with pytest.raises(XmlEditError) as err:
        XE.check_text(source, broken)
    line = broken[: broken.index("<vcpu <")].count("\n") + 1
    assert err.value.line == line and err.value.column is not None
    assert err.value.where().startswith(f"line {line}:")


def test_rename_and_uuid_change_refused(conn: libvirt.virConnect) -> None:
    source = XE.read_source(conn, "domain", conn.lookupByName("test").UUIDString())
    with pytest.raises(XmlEditError, match="name must stay 'test'.*Rename"):
        XE.check_text(source, source.text.replace("<name>test<", "<name>other<"))
    with pytest.raises(XmlEditError, match="UUID must stay"):
        XE.check_text(
            source, source.text.replace(source.uuid, "00000000-0000-0000-0000-000000000001")
        )
    without = "\n".join(line for line in source.text.splitlines() if "<uuid>" not in line)
    with pytest.raises(XmlEditError, match="keep the <uuid>"):
        XE.check_text(source, without)
    # the same UUID written without dashes or in capitals is the same UUID
    XE.check_text(source, source.text.replace(source.uuid, source.uuid.replace("-", "").upper()))


def test_passwords_masked_and_restored(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).replace(
        "</devices>", "<graphics type='vnc' port='-1' passwd='it&apos;s'/></devices>"
    )
    dom = conn.defineXML(xml)
    source = XE.read_source(conn, "domain", dom.UUIDString())
    assert "it's" not in source.text and "it&apos;s" not in source.text and MASK in source.text
    out = XE.check_text(source, source.text)
    assert "passwd='it&apos;s'" in out
    edited = source.text.replace("<vcpu placement='static'>2<", "<vcpu placement='static'>1<")
    done = XE.define_text(conn, source, edited)
    secure = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    assert "passwd='it&apos;s'" in secure and MASK in done.text
    assert "<vcpu placement='static'>1</vcpu>" in secure


def test_password_text_in_a_description_is_not_masked() -> None:
    xml = (
        "<domain><name>d</name><description>passwd='plain text'</description><devices>"
        "<graphics type='vnc' port='-1' passwd='pw'/></devices></domain>"
    )
    text, found = XE.mask_passwords(xml)
    assert "passwd='plain text'" in text and "passwd='pw'" not in text
    assert found == (("vnc", "pw"),)
    root = XE.parse_text(text)
    restored = XE.restore_passwords(text, root, found)
    assert restored == xml


def test_libvirt_error_with_line_of_the_value(conn: libvirt.virConnect) -> None:
    source = XE.read_source(conn, "domain", conn.lookupByName("test").UUIDString())
    bad = source.text.replace("bus='virtio'", "bus='bogus'", 1)
    with pytest.raises(XmlEditError) as err:
        XE.define_text(conn, source, bad)
    assert "validate" in err.value.message.lower() or "bogus" in err.value.message
    # the schema check names no line: the first changed line is pointed at
    changed = bad[: bad.index("bogus")].count("\n") + 1
    assert err.value.line == changed and f"first change is on line {changed}" in err.value.message


def test_first_changed_line() -> None:
    assert XE.first_changed_line("a\nb\n", "a\nb\n") is None
    assert XE.first_changed_line("a\nb\n", "a\nc\n") == 2
    assert XE.first_changed_line("a\n", "a\nb\n") == 2


def test_error_line_patterns() -> None:
    assert XE.error_line("XML error: (domain_definition):7: oops") == 7
    assert XE.error_line("at line 3 column 2") == 3
    text = "<a>\n<b bus='zz'/>\n</a>"
    assert XE.error_line("unknown disk bus type 'zz'", text) == 2
    assert XE.error_line("no line here", text) is None


def test_network_and_pool_define(conn: libvirt.virConnect) -> None:
    net = XE.read_source(conn, "network", "default")
    assert net.active and net.note == XE.NETWORK_RUNNING
    with pytest.raises(XmlEditError, match="failed to validate"):  # VALIDATE is on
        XE.define_text(conn, net, net.text.replace("<network>", "<network>\n  <bogus/>", 1))
    done = XE.define_text(conn, net, net.text.replace("192.168.122.254", "192.168.122.200"))
    # the test driver shows the running config only (no INACTIVE flag): the old range stays
    assert done.name == "default" and done.note == XE.NETWORK_RUNNING
    pool = XE.read_source(conn, "pool", "default-pool")
    assert pool.active and pool.note == XE.POOL_RUNNING
    with pytest.raises(XmlEditError, match="root element must stay <pool>"):
        XE.check_text(pool, net.text)


def test_volume_is_read_only(conn: libvirt.virConnect) -> None:
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML("<volume><name>xv.img</name><capacity>1048576</capacity></volume>", 0)
    try:
        source = XE.read_source(conn, "volume", "default-pool/xv.img")
        assert source.readonly_reason == XE.VOLUME_READONLY and "<volume" in source.text
        with pytest.raises(XmlEditError, match="cannot redefine a volume"):
            XE.check_text(source, source.text)
    finally:
        vol.delete(0)


def test_unified_diff() -> None:
    assert XE.unified_diff("a\nb\n", "a\nb\n") == ""
    diff = XE.unified_diff("a\nb\n", "a\nc\n")
    assert "-b\n" in diff and "+c\n" in diff
