//! DNS messages on the wire: the query we send, and what a reply may count
//! for (RFC 1035 §4.1, RFC 6891 for EDNS0).
//!
//! Pure functions over byte slices: no sockets here. A reply is read only as
//! far as the answer section, and, for how long its answer may be kept
//! ([`ttl`]), the authority section's SOA; additional records are never
//! parsed.

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use super::Error;

/// The EDNS0 UDP payload size we advertise: the DNS Flag Day 2020 figure,
/// which avoids IP fragmentation on any common path.
pub const EDNS_PAYLOAD: u16 = 1232;

/// Longest CNAME chain followed inside one answer; longer means a loop.
const MAX_CNAME_CHAIN: usize = 16;

/// One question: a name and a type, class IN (RFC 1035 §4.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub rtype: RecordType,
}

/// The three outcomes of a question that a server answered (RFC 2308 §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Records of the type asked, at the name or at the end of its CNAME chain.
    Records(Vec<RData>),
    /// The name does not exist (RCODE 3).
    NxDomain,
    /// The name exists but has no records of this type.
    NoData,
}

/// What one received message counts for.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Not a reply to this query: too short, another id, QR clear, or another
    /// question. Ignored; the query keeps waiting.
    NotOurs,
    /// Our id, but no well-formed answer to a standard query: the rest does
    /// not parse, or with our question the opcode is not QUERY, or a record
    /// that would count has data of another shape than its type's. Another
    /// server may do better.
    Malformed,
    /// TC set: ask the same server over TCP (RFC 1035 §4.2.1, RFC 7766 §5).
    Truncated,
    /// SERVFAIL, REFUSED, FORMERR, NOTIMP or another error code: another
    /// server may do better.
    ServerError(ResponseCode),
    /// A final outcome for this question.
    Final(Result<Answer, Error>),
}

/// The query message: RD set, one question, an EDNS0 OPT record.
pub fn query(id: u16, question: &Question) -> Vec<u8> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(question.name.clone(), question.rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    message.set_edns(edns);
    message
        .to_vec()
        .expect("a query with one valid question always encodes")
}

/// Reads `bytes` as a reply to the query `id` for `question`.
///
/// A reply with our id and our question but another opcode than QUERY
/// (RFC 1035 §4.1.1) is malformed, not someone else's: it is the server's
/// bad answer. An UPDATE reply (RFC 2136 §2) matters most: its records may
/// have empty data (RFC 2136 §2.4), which hickory reads as update records
/// of the asked type, with no preference and no name in them.
pub fn check(bytes: &[u8], id: u16, question: &Question) -> Reply {
    let mut decoder = BinDecoder::new(bytes);
    let Ok(header) = Header::read(&mut decoder) else {
        return Reply::NotOurs;
    };
    let meta = header.metadata;
    if meta.id != id || meta.message_type != MessageType::Response {
        return Reply::NotOurs;
    }
    // One question, as asked (RFC 1035 §4.1.2): counted before any is
    // parsed, so that a datagram of thousands costs nothing to refuse.
    if header.counts.queries != 1 {
        return Reply::NotOurs;
    }
    let Ok(queries) = Message::read_queries(&mut decoder, 1) else {
        return Reply::Malformed;
    };
    let [asked] = queries.as_slice() else {
        return Reply::NotOurs;
    };
    if asked.name() != &question.name
        || asked.query_type() != question.rtype
        || asked.query_class() != DNSClass::IN
    {
        return Reply::NotOurs;
    }
    if meta.op_code != OpCode::Query {
        return Reply::Malformed;
    }
    if meta.truncation {
        return Reply::Truncated;
    }
    let rcode = meta.response_code;
    if rcode != ResponseCode::NoError && rcode != ResponseCode::NXDomain {
        return Reply::ServerError(rcode);
    }
    let count = usize::from(header.counts.answers);
    // Read as the answer to a standard query: hickory then refuses any
    // record with empty data instead of taking it for an update record
    // (RFC 2136 §2.4).
    let Ok((answers, _, _)) = Message::read_records(&mut decoder, count, false, OpCode::Query)
    else {
        return Reply::Malformed;
    };
    extract(&answers, question, rcode == ResponseCode::NXDomain)
}

/// How long, in seconds, the answer of a reply that [`check`] took as final
/// may be kept: the smallest TTL in the answer section, and for NXDOMAIN or
/// NODATA the negative TTL of RFC 2308 §5 (the authority section's SOA: the
/// smaller of its TTL and its MINIMUM field). `None` when the reply says
/// neither.
pub fn ttl(bytes: &[u8]) -> Option<u32> {
    let mut decoder = BinDecoder::new(bytes);
    let counts = Header::read(&mut decoder).ok()?.counts;
    Message::read_queries(&mut decoder, usize::from(counts.queries)).ok()?;
    let records = |decoder: &mut BinDecoder<'_>, count: u16| {
        Message::read_records(decoder, usize::from(count), false, OpCode::Query)
            .map(|(records, _, _)| records)
    };
    let answers = records(&mut decoder, counts.answers).ok()?;
    let positive = answers.iter().map(|r| r.ttl).min();
    let negative = records(&mut decoder, counts.authorities)
        .ok()
        .and_then(|authority| {
            authority.iter().find_map(|r| match &r.data {
                RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
                _ => None,
            })
        });
    match (positive, negative) {
        (Some(p), Some(n)) => Some(p.min(n)),
        (p, n) => p.or(n),
    }
}

/// The records for `question`, following CNAMEs inside the answer section
/// from the name asked (RFC 1034 §3.6.2, §4.3.2). The response code speaks
/// of the last name in the chain (RFC 6604 §2). Malformed if a record of
/// the asked type, or a CNAME, on the way does not hold its type's data.
fn extract(answers: &[Record], question: &Question, nxdomain: bool) -> Reply {
    let mut name = &question.name;
    for _ in 0..=MAX_CNAME_CHAIN {
        let at_name = || {
            answers
                .iter()
                .filter(move |r| r.dns_class == DNSClass::IN && &r.name == name)
        };
        let misshapen = at_name().any(|r| {
            let rtype = r.record_type();
            (rtype == question.rtype || rtype == RecordType::CNAME) && !well_formed(rtype, &r.data)
        });
        if misshapen {
            return Reply::Malformed;
        }
        let records: Vec<RData> = at_name()
            .filter(|r| r.record_type() == question.rtype)
            .map(|r| r.data.clone())
            .collect();
        if !records.is_empty() {
            return Reply::Final(Ok(Answer::Records(records)));
        }
        let cname = at_name().find_map(|r| match &r.data {
            RData::CNAME(target) => Some(&target.0),
            _ => None,
        });
        match cname {
            Some(target) => name = target,
            None if nxdomain => return Reply::Final(Ok(Answer::NxDomain)),
            None => return Reply::Final(Ok(Answer::NoData)),
        }
    }
    Reply::Final(Err(Error::CnameChain))
}

/// Whether `data` is what a record of `rtype` holds: for MX a preference
/// and a name (RFC 1035 §3.3.9), for A four octets (§3.4.1), for AAAA
/// sixteen (RFC 3596 §2.2), for CNAME a name (§3.3.1). hickory reads any
/// record with empty data as `RData::Update0` of its type (RFC 2136 §2.4),
/// which is none of these. Other types, which rmxsmtpd never asks, need
/// only not be empty.
fn well_formed(rtype: RecordType, data: &RData) -> bool {
    match rtype {
        RecordType::MX => matches!(data, RData::MX(_)),
        RecordType::A => matches!(data, RData::A(_)),
        RecordType::AAAA => matches!(data, RData::AAAA(_)),
        RecordType::CNAME => matches!(data, RData::CNAME(_)),
        _ => !matches!(data, RData::Update0(_)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NULL};
    use hickory_proto::serialize::binary::BinEncodable;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn mx_question() -> Question {
        Question {
            name: name("100.51.198.in-addr.arpa."),
            rtype: RecordType::MX,
        }
    }

    fn record(owner: &str, data: RData) -> Record {
        Record::from_rdata(name(owner), 300, data)
    }

    fn mx(pref: u16, exchange: &str) -> RData {
        RData::MX(MX::new(pref, name(exchange)))
    }

    fn cname(target: &str) -> RData {
        RData::CNAME(CNAME(name(target)))
    }

    /// A reply to `query(id, question)` with these answers.
    fn reply(id: u16, question: &Question, rcode: ResponseCode, answers: Vec<Record>) -> Vec<u8> {
        let mut message = Message::new(id, MessageType::Response, OpCode::Query);
        message.metadata.response_code = rcode;
        message.add_query(Query::query(question.name.clone(), question.rtype));
        message.add_answers(answers);
        message.to_vec().unwrap()
    }

    /// A reply to `question` built byte by byte, for what hickory's encoder
    /// will not write: this opcode, and one answer at the name asked, of
    /// the type asked, class IN, TTL 300, holding `rdata` as it is.
    fn raw_reply(opcode: u8, question: &Question, rdata: &[u8]) -> Vec<u8> {
        let rtype = u16::from(question.rtype).to_be_bytes();
        let mut bytes = vec![0, 7, 0x80 | opcode << 3, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        bytes.extend(question.name.to_bytes().unwrap());
        bytes.extend(rtype);
        bytes.extend([0, 1, 0xc0, 12]);
        bytes.extend(rtype);
        bytes.extend([0, 1, 0, 0, 1, 44]);
        bytes.extend(u16::try_from(rdata.len()).unwrap().to_be_bytes());
        bytes.extend(rdata);
        bytes
    }

    #[test]
    fn how_long_an_answer_may_be_kept() {
        use hickory_proto::rr::rdata::SOA;
        let q = mx_question();
        let at = |ttl, data| Record::from_rdata(name("100.51.198.in-addr.arpa."), ttl, data);
        // The smallest TTL of the answer, CNAMEs on the way included.
        let answers = vec![at(300, cname("list.example.")), {
            Record::from_rdata(name("list.example."), 120, mx(10, "mx1.example."))
        }];
        assert_eq!(
            ttl(&reply(7, &q, ResponseCode::NoError, answers)),
            Some(120)
        );
        // NXDOMAIN and NODATA: the SOA's TTL or MINIMUM, the smaller (RFC 2308 §5).
        let soa = |ttl, minimum| {
            let data = SOA::new(name("ns.example."), name("h.example."), 1, 2, 3, 4, minimum);
            Record::from_rdata(name("51.198.in-addr.arpa."), ttl, RData::SOA(data))
        };
        for (rcode, soa_ttl, minimum, want) in [
            (ResponseCode::NXDomain, 3600, 45, 45),
            (ResponseCode::NoError, 30, 900, 30),
        ] {
            let mut message = Message::new(7, MessageType::Response, OpCode::Query);
            message.metadata.response_code = rcode;
            message.add_query(Query::query(q.name.clone(), q.rtype));
            message.add_authority(soa(soa_ttl, minimum));
            assert_eq!(ttl(&message.to_vec().unwrap()), Some(want), "{rcode:?}");
        }
        // Neither: the reply says nothing.
        assert_eq!(ttl(&reply(7, &q, ResponseCode::NXDomain, vec![])), None);
        assert_eq!(ttl(&[0, 7]), None);
    }

    /// MX 10 mx1.example. as RDATA: a preference, then a name.
    const MX_10: &[u8] = b"\0\x0a\x03mx1\x07example\0";

    #[test]
    fn raw_replies_read_as_the_records_they_hold() {
        let q = mx_question();
        let got = check(&raw_reply(0, &q, MX_10), 7, &q);
        assert_eq!(
            got,
            Reply::Final(Ok(Answer::Records(vec![mx(10, "mx1.example.")])))
        );
    }

    #[test]
    fn only_a_standard_query_is_answered() {
        let q = mx_question();
        // IQUERY, STATUS, unassigned, NOTIFY, UPDATE, and the last code.
        for opcode in [1, 2, 3, 4, 5, 15] {
            let got = check(&raw_reply(opcode, &q, MX_10), 7, &q);
            assert_eq!(got, Reply::Malformed, "opcode {opcode}");
            let empty = check(&raw_reply(opcode, &q, &[]), 7, &q);
            assert_eq!(empty, Reply::Malformed, "opcode {opcode}, empty MX");
        }
        // Whatever the opcode, another id is still someone else's reply.
        assert_eq!(check(&raw_reply(5, &q, MX_10), 8, &q), Reply::NotOurs);
    }

    #[test]
    fn an_mx_is_a_preference_and_a_name() {
        let q = mx_question();
        let with_extra = [MX_10, &[0]].concat();
        for rdata in [&[][..], &[0, 10], &MX_10[..6], &with_extra] {
            let got = check(&raw_reply(0, &q, rdata), 7, &q);
            assert_eq!(got, Reply::Malformed, "{rdata:?}");
        }
    }

    #[test]
    fn only_a_real_mx_0_dot_is_a_null_mx() {
        let q = mx_question();
        let got = check(&raw_reply(0, &q, &[0, 0, 0]), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::Records(vec![mx(0, ".")]))));
    }

    #[test]
    fn addresses_have_their_length() {
        let a = Question {
            rtype: RecordType::A,
            ..mx_question()
        };
        let aaaa = Question {
            rtype: RecordType::AAAA,
            ..mx_question()
        };
        for length in [0, 3, 5, 16] {
            let got = check(&raw_reply(0, &a, &vec![1; length]), 7, &a);
            assert_eq!(got, Reply::Malformed, "A of {length} octets");
        }
        for length in [0, 4, 15, 17] {
            let got = check(&raw_reply(0, &aaaa, &vec![1; length]), 7, &aaaa);
            assert_eq!(got, Reply::Malformed, "AAAA of {length} octets");
        }
        let got = check(&raw_reply(0, &a, &[198, 51, 100, 5]), 7, &a);
        let want = RData::A(A(Ipv4Addr::new(198, 51, 100, 5)));
        assert_eq!(got, Reply::Final(Ok(Answer::Records(vec![want]))));
        let got = check(&raw_reply(0, &aaaa, &[1; 16]), 7, &aaaa);
        let want = RData::AAAA(AAAA(Ipv6Addr::from([1; 16])));
        assert_eq!(got, Reply::Final(Ok(Answer::Records(vec![want]))));
    }

    #[test]
    fn a_record_that_counts_holds_its_types_data() {
        let q = mx_question();
        let owner = "100.51.198.in-addr.arpa.";
        let empty = Record::update0(name(owner), 300, RecordType::MX);
        let unknown = record(
            owner,
            RData::Unknown {
                code: RecordType::MX,
                rdata: NULL::with(vec![0, 10]),
            },
        );
        for bad in [empty, unknown] {
            let got = extract(std::slice::from_ref(&bad), &q, false);
            assert_eq!(got, Reply::Malformed, "{bad:?}");
            // Beside a good record too: the answer is in doubt.
            let got = extract(&[record(owner, mx(10, "mx1.example.")), bad], &q, false);
            assert_eq!(got, Reply::Malformed);
        }
        // A CNAME that would be followed, with no name in it.
        let alias = Record::update0(name(owner), 300, RecordType::CNAME);
        let target = record("a.example.", mx(10, "mx1.example."));
        assert_eq!(extract(&[alias, target], &q, false), Reply::Malformed);
        // Elsewhere, the same records do not count and do no harm.
        let elsewhere = Record::update0(name("other.example."), 300, RecordType::MX);
        let got = extract(&[elsewhere], &q, true);
        assert_eq!(got, Reply::Final(Ok(Answer::NxDomain)));
    }

    #[test]
    fn query_carries_the_question_rd_and_edns() {
        let bytes = query(0x1234, &mx_question());
        let message = Message::from_vec(&bytes).unwrap();
        assert_eq!(message.metadata.id, 0x1234);
        assert!(message.metadata.recursion_desired);
        assert_eq!(message.metadata.message_type, MessageType::Query);
        assert_eq!(message.queries.len(), 1);
        assert_eq!(message.queries[0].name(), &mx_question().name);
        assert_eq!(message.queries[0].query_type(), RecordType::MX);
        assert_eq!(message.edns.unwrap().max_payload(), EDNS_PAYLOAD);
    }

    #[test]
    fn answer_nodata_nxdomain() {
        let q = mx_question();
        let answers = vec![record("100.51.198.in-addr.arpa.", mx(10, "mx1.example."))];
        let got = check(&reply(7, &q, ResponseCode::NoError, answers), 7, &q);
        assert_eq!(
            got,
            Reply::Final(Ok(Answer::Records(vec![mx(10, "mx1.example.")])))
        );
        let got = check(&reply(7, &q, ResponseCode::NoError, vec![]), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::NoData)));
        let got = check(&reply(7, &q, ResponseCode::NXDomain, vec![]), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::NxDomain)));
    }

    #[test]
    fn records_of_other_names_and_types_do_not_count() {
        let q = mx_question();
        let answers = vec![
            record("other.example.", mx(10, "evil.example.")),
            record(
                "100.51.198.in-addr.arpa.",
                RData::A(A(Ipv4Addr::new(1, 2, 3, 4))),
            ),
        ];
        let got = check(&reply(7, &q, ResponseCode::NoError, answers), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::NoData)));
    }

    #[test]
    fn question_name_matches_case_insensitively() {
        let q = mx_question();
        let shouted = Question {
            name: name("100.51.198.IN-ADDR.ARPA."),
            rtype: RecordType::MX,
        };
        let got = check(&reply(7, &shouted, ResponseCode::NoError, vec![]), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::NoData)));
    }

    #[test]
    fn cname_chain_is_followed() {
        let q = mx_question();
        let answers = vec![
            record("100.51.198.in-addr.arpa.", cname("a.example.")),
            record("a.example.", cname("b.example.")),
            record("b.example.", mx(5, "mx.example.")),
        ];
        let got = check(&reply(7, &q, ResponseCode::NoError, answers), 7, &q);
        assert_eq!(
            got,
            Reply::Final(Ok(Answer::Records(vec![mx(5, "mx.example.")])))
        );
    }

    #[test]
    fn cname_to_nowhere_takes_the_rcode() {
        let q = mx_question();
        let answers = vec![record("100.51.198.in-addr.arpa.", cname("gone.example."))];
        let got = check(&reply(7, &q, ResponseCode::NXDomain, answers), 7, &q);
        assert_eq!(got, Reply::Final(Ok(Answer::NxDomain)));
    }

    #[test]
    fn cname_loop_is_an_error() {
        let q = mx_question();
        let answers = vec![
            record("100.51.198.in-addr.arpa.", cname("a.example.")),
            record("a.example.", cname("100.51.198.in-addr.arpa.")),
        ];
        let got = check(&reply(7, &q, ResponseCode::NoError, answers), 7, &q);
        assert_eq!(got, Reply::Final(Err(Error::CnameChain)));
    }

    #[test]
    fn not_ours() {
        let q = mx_question();
        let good = reply(7, &q, ResponseCode::NoError, vec![]);
        assert_eq!(check(&good, 8, &q), Reply::NotOurs, "other id");
        let mut as_query = good.clone();
        as_query[2] &= 0x7f;
        assert_eq!(check(&as_query, 7, &q), Reply::NotOurs, "QR clear");
        let other = Question {
            name: name("101.51.198.in-addr.arpa."),
            rtype: RecordType::MX,
        };
        let wrong = reply(7, &other, ResponseCode::NoError, vec![]);
        assert_eq!(check(&wrong, 7, &q), Reply::NotOurs, "other name");
        let wrong_type = Question {
            rtype: RecordType::A,
            ..q.clone()
        };
        let wrong = reply(7, &wrong_type, ResponseCode::NoError, vec![]);
        assert_eq!(check(&wrong, 7, &q), Reply::NotOurs, "other type");
        assert_eq!(check(&good[..5], 7, &q), Reply::NotOurs, "short");
        assert_eq!(check(&[], 7, &q), Reply::NotOurs, "empty");
        // Any question count but one is no reply to our query, and is told
        // from the header alone: the questions it claims are never read.
        let mut many = good.clone();
        many[4..6].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(check(&many, 7, &q), Reply::NotOurs, "65,535 questions");
        let mut none = good.clone();
        none[4..6].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(check(&none, 7, &q), Reply::NotOurs, "no question");
    }

    #[test]
    fn truncated_refused_malformed() {
        let q = mx_question();
        let mut tc = reply(7, &q, ResponseCode::NoError, vec![]);
        tc[2] |= 0x02;
        assert_eq!(check(&tc, 7, &q), Reply::Truncated);
        for rcode in [
            ResponseCode::ServFail,
            ResponseCode::Refused,
            ResponseCode::FormErr,
            ResponseCode::NotImp,
        ] {
            let bytes = reply(7, &q, rcode, vec![]);
            assert_eq!(check(&bytes, 7, &q), Reply::ServerError(rcode));
        }
        let mut cut = reply(
            7,
            &q,
            ResponseCode::NoError,
            vec![record("100.51.198.in-addr.arpa.", mx(1, "mx.example."))],
        );
        cut.truncate(cut.len() - 3);
        assert_eq!(check(&cut, 7, &q), Reply::Malformed);
    }
}
