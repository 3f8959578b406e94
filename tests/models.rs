//! Models: round trips in place and owned, fingerprint refusal, validation errors, caching.

use brine::model::{ModelOptions, numbers};
use brine::{Codec, Error, Reader, Writer};

mod v1 {
    #[derive(
        rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq,
    )]
    pub struct Node {
        pub feature: u32,
        pub threshold: f32,
        pub label: String,
    }

    #[derive(
        rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq,
    )]
    pub struct Forest {
        pub trees: Vec<Vec<Node>>,
        pub weights: Vec<f32>,
        pub kind: Kind,
    }

    #[derive(
        rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq,
    )]
    pub enum Kind {
        Classifier { classes: u32 },
        Regressor,
    }
}

mod v2 {
    #[derive(
        rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq,
    )]
    pub struct Node {
        pub feature: u32,
        pub threshold: f64,
        pub label: String,
    }

    #[derive(
        rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq,
    )]
    pub struct Forest {
        pub trees: Vec<Vec<Node>>,
        pub weights: Vec<f32>,
        pub kind: super::v1::Kind,
    }
}

fn forest() -> v1::Forest {
    v1::Forest {
        trees: vec![
            vec![v1::Node {
                feature: 1,
                threshold: 0.5,
                label: "a".into(),
            }],
            vec![],
            vec![
                v1::Node {
                    feature: 2,
                    threshold: -1.0,
                    label: "βeta".into(),
                },
                v1::Node {
                    feature: 3,
                    threshold: 2.0,
                    label: String::new(),
                },
            ],
        ],
        weights: vec![0.25, 0.5, 0.25],
        kind: v1::Kind::Classifier { classes: 3 },
    }
}

#[test]
fn model_round_trips_in_place_and_owned_raw_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_model("raw", &forest()).unwrap();
    w.put_model_with(
        "zstd",
        &forest(),
        &ModelOptions::new().codec(Codec::zstd()).version(7),
    )
    .unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    for name in ["raw", "zstd"] {
        let m = r.model::<v1::Forest>(name).unwrap();
        assert_eq!(m.trees.len(), 3);
        assert_eq!(m.trees[2][1].feature, 3);
        assert_eq!(m.trees[2][0].label.as_str(), "βeta");
        assert_eq!(numbers(&m.weights), &[0.25, 0.5, 0.25]);
        assert_eq!(r.load_model::<v1::Forest>(name).unwrap(), forest());
        // Later accesses are cached and give the same reference.
        assert!(std::ptr::eq(m, r.model::<v1::Forest>(name).unwrap()));
    }
    let e = r.model_entry("zstd").unwrap();
    assert_eq!(e.type_name(), "Forest");
    assert_eq!(e.version(), Some(7));
    assert_eq!(r.model_entry("raw").unwrap().version(), None);
}

#[test]
fn a_changed_type_is_refused_with_both_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_model_with("forest", &forest(), &ModelOptions::new().version(3))
        .unwrap();
    w.put_array("x", &[1u8], &[1]).unwrap();
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    let Err(err) = r.model::<v2::Forest>("forest") else {
        panic!("a changed type was accepted")
    };
    let Error::SchemaMismatch(ref details) = err else {
        panic!("{err:?}")
    };
    assert_eq!(details.stored_version, Some(3));
    let diff = details.diff.as_ref().unwrap();
    assert!(
        diff.stored.as_ref().unwrap().contains("threshold: f32"),
        "{diff}"
    );
    let message = err.to_string();
    eprintln!("{message}");
    assert!(message.contains("version 3"), "{message}");
    assert!(message.contains("threshold: f64"), "{message}");
    assert!(matches!(
        r.model::<v1::Forest>("x"),
        Err(Error::WrongKind { .. })
    ));
    assert!(matches!(
        r.array::<u8>("forest"),
        Err(Error::WrongKind { .. })
    ));
}
